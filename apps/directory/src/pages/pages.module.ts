import { Module } from '@nestjs/common';
import { NodesModule } from '../nodes/nodes.module';
import { StreamsModule } from '../streams/streams.module';
import { PagesController } from './pages.controller';

@Module({
  imports: [NodesModule, StreamsModule],
  controllers: [PagesController],
})
export class PagesModule {}
