import { ApiTags } from '@nestjs/swagger';
import { Controller, Get, Inject } from '@nestjs/common';
import { NodeConfig } from '@astral/config';
import { AstralError, NodeStatus } from '@astral/contracts';
import { AGENT_CONFIG, AGENT_NODE_ID } from '../agent.tokens';
import { DirectoryLink } from '../directory/directory-link.service';
import { RelayLink } from '../relay/relay-link.service';
import { TicketsService } from '../tickets/tickets.service';
import { CarriedStreams } from '../streams/carried-streams';
import { MembershipService } from '../membership/membership.service';
import { WatchService } from '../streams/watch.service';

@ApiTags('node')
@Controller('api')
export class StatusHttpController {
  constructor(
    @Inject(AGENT_CONFIG) private readonly config: NodeConfig,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    private readonly directoryLink: DirectoryLink,
    private readonly relayLink: RelayLink,
    private readonly tickets: TicketsService,
    private readonly carried: CarriedStreams,
    private readonly membership: MembershipService,
    private readonly watching: WatchService,
  ) {}

  /** Node status; answers 503 until the node is registered with the directory. */
  @Get('status')
  status(): NodeStatus {
    if (!this.directoryLink.isRegistered)
      throw new AstralError('unavailable', 'not registered with the directory yet');
    return {
      nodeId: this.nodeId,
      host: this.config.host,
      ports: {
        rtmp: this.config.rtmpPort,
        http: this.config.httpPort,
        forward: this.config.forwardPort,
        api: this.config.apiPort,
      },
      role: this.membership.role,
      supernodeId: this.membership.supernodeId,
      members: this.membership.role === 'supernode' ? this.membership.memberIds().length : null,
      uploadLimitBps: this.tickets.limitBps,
      forwards: this.tickets.confirmedCount(),
      streams: this.carried.shown(),
      acquiring: this.watching.acquiring(),
      relay: this.relayLink.stats,
    };
  }
}
