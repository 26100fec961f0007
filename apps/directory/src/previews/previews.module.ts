import { Module } from '@nestjs/common';
import { StreamsModule } from '../streams/streams.module';
import { PreviewsBusController, PreviewsHttpController } from './previews.controller';
import { PreviewStore } from './preview-store';
import { PreviewsService } from './previews.service';

/** Preview images of live streams (docs/SEEDING.md#previews). Exports PreviewStore for StreamInfo.hasPreview. */
@Module({
  imports: [StreamsModule],
  controllers: [PreviewsBusController, PreviewsHttpController],
  providers: [PreviewStore, PreviewsService],
  exports: [PreviewStore],
})
export class PreviewsModule {}
