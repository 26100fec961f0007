import { FlvTag } from '@astral/media';
import { Logger } from '@astral/config';
import { LogThrottle } from '@astral/net';
import { StreamConsumer } from '../hub/stream-consumer';
import { LocalPublish } from '../media-server/media-server';

/**
 * Feeds a relayed stream into the local media server, so local players (RTMP, HTTP-FLV, WS-FLV) can watch
 * it: an in-process publish on node-media-server's broadcast that stays open for the stream's whole life on
 * this node, across upstream switches. No socket and no HTTP request, so no server timeout can cut it and
 * the players' timestamps never restart.
 */
export class LocalRepublisher implements StreamConsumer {
  private publish: LocalPublish | null = null;
  private readonly faults = new LogThrottle(10_000, 4);
  rejectedTags = 0;

  constructor(
    private readonly open: () => LocalPublish,
    private readonly joinSequence: () => FlvTag[],
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.publish) return;
    this.publish = this.open();
    for (const tag of this.joinSequence()) this.deliver(tag);
  }

  deliver(tag: FlvTag): void {
    if (!this.publish) return;
    try {
      this.publish.tag(tag.type, tag.timestamp, tag.data);
    } catch (err) {
      // A tag node-media-server cannot read is skipped for local players; forwards still carry it.
      this.rejectedTags += 1;
      const suppressed = this.faults.take('tag');
      if (suppressed !== null)
        this.log.warn(
          { err: (err as Error).message, type: tag.type, suppressed },
          'local players skip an unreadable tag',
        );
    }
  }

  close(_reason: string): void {
    this.publish?.end();
    this.publish = null;
  }
}
