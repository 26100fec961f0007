import { Socket, connect } from 'node:net';

/**
 * The cheapest possible HTTP-FLV consumer: one raw TCP socket, a GET, and a byte count. It parses
 * nothing, so many of them in one process do not make the consumer side the bottleneck.
 */
export class RawConsumer {
  bytes = 0;
  ended = false;
  endError: string | null = null;
  status: number | null = null;
  private socket: Socket | null = null;
  private head = '';
  private inBody = false;

  constructor(
    readonly url: string,
    /** Request headers (a forward pull's X-Astral-Proof). */
    private readonly headers: Record<string, string> = {},
    /** Sees the body (after the HTTP head), e.g. an FlvTagClock; unset, nothing is parsed. */
    private readonly body?: { push(chunk: Buffer): void },
  ) {}

  static async open(url: string, timeoutMs = 10_000, headers?: Record<string, string>): Promise<RawConsumer> {
    const c = new RawConsumer(url, headers);
    await c.open(timeoutMs);
    return c;
  }

  open(timeoutMs = 10_000): Promise<void> {
    const u = new URL(this.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(u.port), u.hostname);
      this.socket = socket;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no response from ${u.pathname} in ${timeoutMs} ms`));
      }, timeoutMs);
      socket.setNoDelay(true);
      socket.once('connect', () =>
        socket.write(
          // HTTP/1.0 when the body is parsed: the server then sends it as it is, without chunked framing.
          `GET ${u.pathname}${u.search} HTTP/1.${this.body ? 0 : 1}\r\nHost: ${u.host}\r\n` +
            Object.entries(this.headers)
              .map(([k, v]) => `${k}: ${v}\r\n`)
              .join('') +
            'Connection: close\r\n\r\n',
        ),
      );
      socket.on('data', (chunk: Buffer) => {
        this.bytes += chunk.length;
        if (this.body && this.inBody) this.body.push(chunk);
        else if (this.body) {
          this.head += chunk.toString('latin1');
          const end = this.head.indexOf('\r\n\r\n');
          if (end >= 0) {
            this.inBody = true;
            this.body.push(Buffer.from(this.head.slice(end + 4), 'latin1'));
          }
        }
        if (this.status === null) {
          if (!this.body) this.head += chunk.toString('latin1', 0, Math.min(chunk.length, 64));
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(this.head);
          if (m) {
            clearTimeout(timer);
            this.status = Number(m[1]);
            if (this.status === 200) resolve();
            else {
              socket.destroy();
              reject(new Error(`${u.pathname} answered HTTP ${this.status}`));
            }
          }
        }
      });
      socket.once('error', (err) => {
        this.endError = err.message;
        clearTimeout(timer);
        reject(err);
      });
      socket.once('close', () => {
        this.ended = true;
        clearTimeout(timer);
        reject(new Error('closed before a response'));
      });
    });
  }

  /** Stops reading: the kernel buffers fill and the sender sees backpressure. */
  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }

  close(): void {
    this.socket?.destroy();
  }
}
