import http, { ClientRequest } from 'node:http';
import { FlvParser, FlvTag } from '@astral/media';
import { Logger } from '@astral/config';

/**
 * Reads a stream that was published into the local media server (by OBS, ffmpeg or `astral publish`)
 * over HTTP-FLV on loopback, so the relay can forward it. Reconnects while the publish lasts.
 */
export class LocalTap {
  private req: ClientRequest | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly url: string,
    private readonly onTag: (tag: FlvTag) => void,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.closed) return;
    const parser = new FlvParser();
    const req = http.get(this.url, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        this.again(`local media server answered HTTP ${res.statusCode}`);
        return;
      }
      res.on('data', (chunk: Buffer) => {
        try {
          for (const tag of parser.push(chunk)) this.onTag(tag);
        } catch (err) {
          this.again((err as Error).message);
        }
      });
      res.on('end', () => this.again('local media server closed the stream'));
    });
    req.setNoDelay(true);
    req.on('error', (err) => this.again(err.message));
    this.req = req;
  }

  private again(reason: string): void {
    this.req?.destroy();
    this.req = null;
    if (this.closed || this.retry) return;
    this.log.debug({ reason }, 'local tap interrupted; reconnecting');
    this.retry = setTimeout(() => {
      this.retry = null;
      this.start();
    }, 200);
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.req?.destroy();
    this.req = null;
  }
}
