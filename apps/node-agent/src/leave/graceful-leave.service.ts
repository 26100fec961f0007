import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { DirectoryLink } from '../directory/directory-link.service';
import { TicketsService } from '../tickets/tickets.service';
import { MembershipService } from '../membership/membership.service';
import { CarriedStreams } from '../streams/carried-streams';
import { TicketAcquisition } from '../upstream/ticket-acquisition.service';
import { UpstreamHeartbeat } from '../upstream/upstream-heartbeat.service';
import { NodeLeaving } from './node-leaving';

/** The node's graceful leave on shutdown. */
@Injectable()
export class GracefulLeave implements BeforeApplicationShutdown {
  constructor(
    private readonly leave: NodeLeaving,
    private readonly heartbeat: UpstreamHeartbeat,
    private readonly tickets: TicketsService,
    private readonly carried: CarriedStreams,
    private readonly acquisition: TicketAcquisition,
    private readonly membership: MembershipService,
    private readonly directoryLink: DirectoryLink,
  ) {}

  /**
   * Graceful leave, before the transports close: downstream tickets first (children re-parent while
   * our relay still serves), then our own upstream tickets, then the directory.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.leave.begin();
    this.heartbeat.stop();
    await this.tickets.drain('leaving', 3000);
    for (const c of this.carried.all()) {
      if (c.origin === 'upstream' && c.upstreamNodeId && c.ticketId)
        this.acquisition.cancel(c.upstreamNodeId, c.ticketId, 'leaving');
    }
    await this.membership.leave();
    await this.directoryLink.leave();
  }
}
