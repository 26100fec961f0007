import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { DirectoryLink } from '../directory/directory-link.service';
import { TicketsService } from '../tickets/tickets.service';
import { MembershipService } from '../membership/membership.service';
import { WatchService } from '../streams/watch.service';
import { NodeLeaving } from './node-leaving';

/** The node's graceful leave on shutdown. */
@Injectable()
export class GracefulLeave implements BeforeApplicationShutdown {
  constructor(
    private readonly leave: NodeLeaving,
    private readonly tickets: TicketsService,
    private readonly watching: WatchService,
    private readonly membership: MembershipService,
    private readonly directoryLink: DirectoryLink,
  ) {}

  /**
   * Graceful leave, before the transports close: downstream tickets first (children re-parent while
   * our relay still serves), then our own upstream tickets, then the directory.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.leave.begin();
    await this.tickets.drain('leaving', 3000);
    this.watching.leave();
    await this.membership.leave();
    await this.directoryLink.leave();
  }
}
