import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { NodeEntity } from './node.entity';
import { NodesService } from './nodes.service';
import { NodeExpiry } from './node-expiry.service';
import { NodesController } from './nodes.controller';
import { NodesHttpController } from './nodes.http.controller';

@Module({
  imports: [TypeOrmModule.forFeature([NodeEntity])],
  controllers: [NodesController, NodesHttpController],
  providers: [NodesService, NodeExpiry],
  exports: [NodesService],
})
export class NodesModule {}
