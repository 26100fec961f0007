import { Module } from '@nestjs/common';
import { StreamsModule } from '../streams/streams.module';
import { PreviewsBusController, PreviewsHttpController } from './previews.controller';
import { PreviewStoreModule } from './preview-store.module';
import { PreviewsService } from './previews.service';

/** Preview images of live streams (docs/SEEDING.md#previews). Exports PreviewStore for StreamInfo.hasPreview. */
@Module({
  imports: [StreamsModule, PreviewStoreModule],
  controllers: [PreviewsBusController, PreviewsHttpController],
  providers: [PreviewsService],
  exports: [PreviewStoreModule],
})
export class PreviewsModule {}
