import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AgentPatterns,
  ForwardClosed,
  RelayReady,
  RelayStatsReport,
  RelayStreamEvent,
  UpstreamLost,
} from '@astral/contracts';
import { OnEvent } from '@astral/transport';
import { Logger } from '@astral/config';
import { AGENT_LOGGER } from '../agent.tokens';
import { RelayLink } from './relay-link.service';
import { PublishService } from '../streams/publish.service';
import { WatchService } from '../streams/watch.service';
import { TicketsService } from '../tickets/tickets.service';

/** Events from this node's relay. Handlers never throw into the transport: failures are logged. */
@Controller()
export class RelayEventsController {
  constructor(
    private readonly relayLink: RelayLink,
    private readonly publishing: PublishService,
    private readonly watching: WatchService,
    private readonly tickets: TicketsService,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
  ) {}

  private guard(what: string, work: Promise<unknown>): Promise<void> {
    return work.then(
      () => undefined,
      (err: Error) => this.log.warn({ err: err.message }, `handling ${what} failed`),
    );
  }

  @OnEvent(AgentPatterns.RelayReady)
  ready(@Payload() _msg: RelayReady): Promise<void> {
    return this.guard('relay ready', this.relayLink.relayReady());
  }

  @OnEvent(AgentPatterns.RelayStats)
  stats(@Payload() msg: RelayStatsReport): void {
    this.relayLink.updateStats(msg.stats);
  }

  @OnEvent(AgentPatterns.RelayStreamLive)
  live(@Payload() msg: RelayStreamEvent): Promise<void> {
    return this.guard('stream live', this.publishing.relayStreamLive(msg.streamId, msg.origin));
  }

  @OnEvent(AgentPatterns.RelayStreamEnded)
  ended(@Payload() msg: RelayStreamEvent): Promise<void> {
    if (msg.origin === 'upstream') {
      this.watching.relayStreamEnded(msg.streamId);
      return Promise.resolve();
    }
    return this.guard('stream ended', this.publishing.relayStreamEnded(msg.streamId, msg.origin));
  }

  @OnEvent(AgentPatterns.RelayUpstreamLost)
  upstreamLost(@Payload() msg: UpstreamLost): void {
    this.watching.upstreamLost(msg);
  }

  @OnEvent(AgentPatterns.RelayForwardClosed)
  forwardClosed(@Payload() msg: ForwardClosed): void {
    this.tickets.forwardClosed(msg.ticketId, msg.reason);
  }
}
