import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { NodesModule } from '../nodes/nodes.module';
import { StreamEntity } from './stream.entity';
import { StreamCarrierEntity } from './stream-carrier.entity';
import { StreamsService } from './streams.service';
import { StreamsController } from './streams.controller';
import { StreamsHttpController } from './streams.http.controller';

@Module({
  imports: [TypeOrmModule.forFeature([StreamEntity, StreamCarrierEntity]), NodesModule],
  controllers: [StreamsController, StreamsHttpController],
  providers: [StreamsService],
  exports: [StreamsService],
})
export class StreamsModule {}
