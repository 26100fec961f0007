import { Inject, Injectable } from '@nestjs/common';
import { Logger } from '@astral/config';
import { AGENT_LOGGER } from '../agent.tokens';
import { RelayLink } from '../relay/relay-link.service';
import { LinkEvents } from '../events/link-events';
import { FailoverService } from '../failover/failover.service';
import { CarriedStreams } from './carried-streams';
import { PublishService } from './publish.service';

/** A relay that (re)started lost its state: gives it the publish keys again, then reopens the pulls. */
@Injectable()
export class RelayReplay {
  constructor(
    @Inject(AGENT_LOGGER) private readonly log: Logger,
    private readonly relayLink: RelayLink,
    private readonly carried: CarriedStreams,
    private readonly publishing: PublishService,
    private readonly failover: FailoverService,
    private readonly links: LinkEvents,
  ) {}

  onModuleInit(): void {
    this.links.on('relay-ready', () => this.replayToRelay());
  }

  private async replayToRelay(): Promise<void> {
    await this.publishing.replayKeys();
    // A relay that restarted lost its pulls: open them again on the tickets this node still holds.
    for (const c of this.carried.all()) {
      if (
        c.origin !== 'upstream' ||
        !c.upstreamNodeId ||
        !c.forwardUrl ||
        !c.ticketId ||
        this.failover.inProgress(c.streamId)
      )
        continue;
      await this.relayLink.relay.openUpstream({
        streamId: c.streamId,
        upstreamNodeId: c.upstreamNodeId,
        ticketId: c.ticketId,
        url: c.forwardUrl,
      });
      this.log.info(
        { streamId: c.streamId, upstreamNodeId: c.upstreamNodeId },
        'relay restarted: pull opened again',
      );
    }
  }
}
