import { DynamicModule, Module } from '@nestjs/common';
import { BusConnections, busClient } from '@astral/transport';
import { Logger, NodeConfig } from '@astral/config';
import { NodeKeys } from '@astral/identity';
import { AGENT_CLIENT, AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID, AGENT_NODE_KEYS } from './agent.tokens';
import { DirectoryLink } from './directory/directory-link.service';
import { NodeFacts } from './overlay/node-facts';
import { LinkEvents } from './events/link-events';
import { RelayLink } from './relay/relay-link.service';
import { RelayEventsController } from './relay/relay-events.controller';
import { CarriedStreams } from './streams/carried-streams';
import { PublishService } from './streams/publish.service';
import { WatchService } from './streams/watch.service';
import { RelayReplay } from './streams/relay-replay.service';
import { NodeLeaving } from './leave/node-leaving';
import { GracefulLeave } from './leave/graceful-leave.service';
import { StreamsHttpController } from './streams/streams.http.controller';
import { TicketsService } from './tickets/tickets.service';
import { TicketsController } from './tickets/tickets.controller';
import { TicketsHttpController } from './tickets/tickets.http.controller';
import { StatusHttpController } from './status/status.http.controller';
import { MembershipService } from './membership/membership.service';
import { MembershipController } from './membership/membership.controller';
import { AgentEvents } from './events/agent-events';
import { RedisHealth } from './redis/redis-health';
import { SettingsHttpController } from './settings/settings.http.controller';
import { SeederService } from './seeding/seeder.service';
import { PreviewService } from './preview/preview.service';

@Module({})
export class AgentModule {
  /**
   * `connections`: the process's bus connections (busConnections), shared by the agent's bus client
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
      module: AgentModule,
      controllers: [
        TicketsController,
        MembershipController,
        RelayEventsController,
        StreamsHttpController,
        TicketsHttpController,
        StatusHttpController,
        SettingsHttpController,
      ],
      providers: [
        { provide: AGENT_CONFIG, useValue: config },
        { provide: AGENT_NODE_ID, useValue: nodeId },
        { provide: AGENT_NODE_KEYS, useValue: keys },
        { provide: AGENT_LOGGER, useValue: log },
        {
          provide: AGENT_CLIENT,
          useFactory: () =>
            busClient(nodeId, { url: config.redisUrl, caFile: config.redisCaFile }, connections),
        },
        NodeFacts,
        LinkEvents,
        DirectoryLink,
        RelayLink,
        CarriedStreams,
        AgentEvents,
        RedisHealth,
        MembershipService,
        TicketsService,
        NodeLeaving,
        PublishService,
        WatchService,
        RelayReplay,
        GracefulLeave,
        SeederService,
        PreviewService,
      ],
    };
  }
}
