import { DynamicModule, Module } from '@nestjs/common';
import { BusConnections, busClient } from '@astral/transport';
import { Logger, NodeConfig } from '@astral/config';
import { RelayService } from './relay.service';
import { ForwardServer } from './forward/forward-server';
import { RelayControlController } from './control/relay-control.controller';
import { NodeKeys } from '@astral/identity';
import {
  RELAY_CLIENT,
  RELAY_LOGGER,
  RELAY_NODE_CONFIG,
  RELAY_NODE_ID,
  RELAY_NODE_KEYS,
} from './relay.tokens';

@Module({})
export class RelayModule {
  /**
   * `connections`: the process's bus connections (busConnections), shared by the relay's bus client
   * here and its bus server (main.ts): one publisher and one subscriber for the process.
   */
  static register(
    config: NodeConfig,
    nodeId: string,
    keys: NodeKeys,
    log: Logger,
    connections?: BusConnections,
  ): DynamicModule {
    return {
      module: RelayModule,
      controllers: [RelayControlController],
      providers: [
        { provide: RELAY_NODE_CONFIG, useValue: config },
        { provide: RELAY_NODE_ID, useValue: nodeId },
        { provide: RELAY_NODE_KEYS, useValue: keys },
        { provide: RELAY_LOGGER, useValue: log },
        {
          provide: RELAY_CLIENT,
          useFactory: () =>
            busClient(nodeId, { url: config.redisUrl, caFile: config.redisCaFile }, connections),
        },
        RelayService,
        ForwardServer,
      ],
    };
  }
}
