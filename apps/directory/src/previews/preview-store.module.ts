import { Module } from '@nestjs/common';
import { PreviewStore } from './preview-store';

/** The replica's one PreviewStore: read by the streams service (StreamInfo.hasPreview), written by PreviewsModule. */
@Module({ providers: [PreviewStore], exports: [PreviewStore] })
export class PreviewStoreModule {}
