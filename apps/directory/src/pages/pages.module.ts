import { Module } from '@nestjs/common';
import { NodesModule } from '../nodes/nodes.module';
import { PreviewsModule } from '../previews/previews.module';
import { StreamsModule } from '../streams/streams.module';
import { PagesController } from './pages.controller';

@Module({
  imports: [NodesModule, StreamsModule, PreviewsModule],
  controllers: [PagesController],
})
export class PagesModule {}
