import http, { ClientRequest } from 'node:http';
import { FlvTag, encodeFlvHeader, encodeFlvTag } from '@astral/media';
import { Logger } from '@astral/config';
import { StreamConsumer } from '../hub/stream-consumer';

/**
 * Feeds a relayed stream into the local node-media-server by an HTTP POST of FLV, so local players
 * (RTMP, HTTP-FLV) can watch it. One POST stays open for the stream's whole life on this node, across
 * upstream switches: players attached to the node never see their publisher go away.
 */
export class LocalRepublisher implements StreamConsumer {
  private req: ClientRequest | null = null;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly publishUrl: string,
    private readonly joinSequence: () => FlvTag[],
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.closed) return;
    const req = http.request(this.publishUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'video/x-flv', 'Transfer-Encoding': 'chunked' },
    });
    this.req = req;
    req.on('error', (err) => this.restart(`local publish failed: ${err.message}`));
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => this.restart(`local media server ended the publish (HTTP ${res.statusCode})`));
    });
    req.setNoDelay(true);
    req.write(encodeFlvHeader(true, true));
    for (const tag of this.joinSequence()) req.write(encodeFlvTag(tag));
  }

  private restart(reason: string): void {
    if (this.closed || this.retryTimer) return;
    this.req?.destroy();
    this.req = null;
    this.log.warn({ reason }, 'local republish interrupted; retrying in 500 ms');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.start();
    }, 500);
  }

  deliver(_tag: FlvTag, wire: Buffer): void {
    // Loopback into our own media server: its reads keep up; a stuck one is bounded by restart().
    if (this.req && !this.req.destroyed) {
      if (this.req.writableLength > 8 * 1024 * 1024) this.restart('local media server is not reading');
      else this.req.write(wire);
    }
  }

  close(_reason: string): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.req?.end();
    this.req = null;
  }
}
