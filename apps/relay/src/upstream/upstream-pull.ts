import http, { ClientRequest, IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { FlvParser, FlvTag, readCloseTag } from '@astral/media';
import { FORWARD_PROOF_HEADER } from '@astral/identity';

/** One HTTP pull from one upstream's forward server. */
export class Pull {
  private readonly req: ClientRequest;
  private readonly parser = new FlvParser();
  private stallTimer: NodeJS.Timeout | null = null;
  /** performance.now() of the last byte from the upstream (or of the request). */
  private lastDataAt = performance.now();
  private closed = false;
  bytesIn = 0;

  constructor(
    readonly url: string,
    readonly upstreamNodeId: string,
    /** The proof of possession of this connection (a fresh one per pull: the upstream takes each once). */
    proof: string,
    private readonly stallMs: number,
    private readonly onTags: (pull: Pull, tags: FlvTag[]) => void,
    private readonly onLost: (pull: Pull, reason: string) => void,
    /** Every chunk's size as it arrives (a standby's bytes, counted in the relay's stats). */
    private readonly onBytes?: (bytes: number) => void,
  ) {
    this.req = http.get(url, { headers: { [FORWARD_PROOF_HEADER]: proof } }, (res) => this.onResponse(res));
    this.req.on('error', (err) => this.lose(`upstream connection failed: ${err.message}`));
    // One check for both bounds: twice the stall bound until the first byte (name lookup, connect and the
    // answer on a busy network), the stall bound after it.
    this.armStall(stallMs * 2);
  }

  private onResponse(res: IncomingMessage): void {
    if (res.statusCode !== 200) {
      res.resume();
      this.lose(`upstream answered HTTP ${res.statusCode}`);
      return;
    }
    res.socket.setNoDelay(true);
    res.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      this.bytesIn += chunk.length;
      this.onBytes?.(chunk.length);
      this.lastDataAt = performance.now();
      let tags: FlvTag[];
      try {
        tags = this.parser.push(chunk);
      } catch (err) {
        this.lose((err as Error).message);
        return;
      }
      for (let i = 0; i < tags.length; i++) {
        const reason = readCloseTag(tags[i]);
        if (reason !== null) {
          this.onTags(this, tags.slice(0, i));
          this.lose(`upstream closed the forward: ${reason}`);
          return;
        }
      }
      this.onTags(this, tags);
    });
    res.on('end', () => this.lose('upstream ended the stream (EOF)'));
    res.on('error', (err) => this.lose(`upstream connection broke: ${err.message}`));
  }

  /**
   * One timer per stall bound, not one per chunk: when it fires early enough it is re-armed for the rest.
   * Timers run before I/O in each turn of the event loop, so after the loop was held up (a loaded machine)
   * data may be waiting in the socket: a stall is declared only if it is still silent after one I/O phase.
   */
  private armStall(delayMs = this.stallMs): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.checkStall(false), delayMs);
  }

  private checkStall(afterIo: boolean): void {
    if (this.closed) return;
    const bound = this.bytesIn > 0 ? this.stallMs : this.stallMs * 2;
    const idleMs = performance.now() - this.lastDataAt;
    if (idleMs < bound) this.armStall(bound - idleMs);
    else if (!afterIo) setImmediate(() => this.checkStall(true));
    else if (this.bytesIn === 0) this.lose(`no data from upstream within ${bound} ms of the request`);
    else this.lose(`no data from upstream for ${bound} ms (stall)`);
  }

  private lose(reason: string): void {
    if (this.closed) return;
    this.close();
    this.onLost(this, reason);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.req.destroy();
  }
}
