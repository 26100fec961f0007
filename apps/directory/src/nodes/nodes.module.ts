import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DirectoryConfig } from '../directory.config';
import { ExpiryGate } from './expiry-gate';
import { NodeEntity } from './node.entity';
import { NodesService } from './nodes.service';
import { NodeExpiry } from './node-expiry.service';
import { NodesController } from './nodes.controller';
import { NodesHttpController } from './nodes.http.controller';

@Module({
  imports: [TypeOrmModule.forFeature([NodeEntity])],
  controllers: [NodesController, NodesHttpController],
  providers: [
    NodesService,
    NodeExpiry,
    // One gate per process, started now: heartbeats sent before this directory ran were not recorded by it.
    {
      provide: ExpiryGate,
      useFactory: (config: DirectoryConfig) => new ExpiryGate(config.heartbeatIntervalMs, Date.now()),
      inject: [DirectoryConfig],
    },
  ],
  exports: [NodesService, ExpiryGate],
})
export class NodesModule {}
