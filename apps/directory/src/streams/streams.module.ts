import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { NodesModule } from '../nodes/nodes.module';
import { StreamEntity } from './stream.entity';
import { StreamCarrierEntity } from './stream-carrier.entity';
import { StreamsService } from './streams.service';
import { StreamsController } from './streams.controller';
import { StreamsHttpController } from './streams.http.controller';
import { NetworkHttpController } from './network.http.controller';
import { NetworkService } from './network.service';
import { PreviewStoreModule } from '../previews/preview-store.module';

@Module({
  imports: [TypeOrmModule.forFeature([StreamEntity, StreamCarrierEntity]), NodesModule, PreviewStoreModule],
  controllers: [StreamsController, StreamsHttpController, NetworkHttpController],
  providers: [StreamsService, NetworkService],
  exports: [StreamsService, NetworkService],
})
export class StreamsModule {}
