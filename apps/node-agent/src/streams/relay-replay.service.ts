import { Injectable, OnModuleInit } from '@nestjs/common';
import { LinkEvents } from '../events/link-events';
import { PublishService } from './publish.service';
import { WatchService } from './watch.service';

/** A relay that (re)started lost its state: gives it the publish keys again, then reopens the pulls. */
@Injectable()
export class RelayReplay implements OnModuleInit {
  constructor(
    private readonly publishing: PublishService,
    private readonly watching: WatchService,
    private readonly links: LinkEvents,
  ) {}

  onModuleInit(): void {
    this.links.on('relay-ready', () => this.replayToRelay());
  }

  private async replayToRelay(): Promise<void> {
    await this.publishing.replayKeys();
    // The pulls on the tickets this node still holds (primary and standby), from the watching machine.
    this.watching.relayReady();
  }
}
