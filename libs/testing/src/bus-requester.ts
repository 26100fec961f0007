import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';

/**
 * A bus client that speaks the Nest Redis wire format itself (`{pattern, data, id}` on
 * `<pattern>@<sender>`, answers on `<pattern>@<sender>.reply`) and, unlike Nest's client, sends a retry
 * with the same packet id: the idempotency key the directory keeps (apps/directory/src/transport). For
 * the tests and benches that show a request retried through a Redis restart is applied once.
 */
export class RetryingBusRequester {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly waiting = new Map<string, (reply: { response?: unknown; err?: unknown }) => void>();
  /** Sends, including retries. */
  sends = 0;

  constructor(url: string) {
    const options = { maxRetriesPerRequest: null, retryStrategy: () => 200, lazyConnect: false };
    this.pub = new Redis(url, options);
    this.sub = new Redis(url, options);
    for (const r of [this.pub, this.sub]) r.on('error', () => undefined);
    this.sub.on('pmessage', (_p: string, _c: string, message: string) => {
      try {
        const reply = JSON.parse(message) as { id?: string; response?: unknown; err?: unknown };
        if (reply.id) this.waiting.get(reply.id)?.(reply);
      } catch {
        // not a reply of ours
      }
    });
  }

  /** Subscribes to the replies of every sender (`*.reply` of `pattern`); call before request(). */
  async listen(pattern: string): Promise<void> {
    await this.sub.psubscribe(`${pattern}@*.reply`);
  }

  /**
   * Sends `data` as `sender` until an answer comes, every `retryMs`, always with one packet id; resolves
   * with the response (or rejects with the error body the directory answered).
   */
  request<T>(pattern: string, sender: string, data: object, retryMs = 2000, timeoutMs = 60_000): Promise<T> {
    const id = randomUUID();
    const packet = JSON.stringify({ pattern, data, id });
    return new Promise<T>((resolve, reject) => {
      const send = (): void => {
        this.sends++;
        this.pub.publish(`${pattern}@${sender}`, packet).catch(() => undefined);
      };
      const timer = setInterval(send, retryMs);
      const deadline = setTimeout(
        () => finish({ err: `no answer to ${pattern} within ${timeoutMs} ms` }),
        timeoutMs,
      );
      const finish = (reply: { response?: unknown; err?: unknown }): void => {
        clearInterval(timer);
        clearTimeout(deadline);
        this.waiting.delete(id);
        if (reply.err !== undefined && reply.err !== null) reject(new Error(JSON.stringify(reply.err)));
        else resolve(reply.response as T);
      };
      this.waiting.set(id, finish);
      send();
    });
  }

  /** Publishes an event (`{pattern, data}`) as `sender`. */
  async emit(pattern: string, sender: string, data: object): Promise<void> {
    await this.pub.publish(`${pattern}@${sender}`, JSON.stringify({ pattern, data }));
  }

  close(): void {
    this.pub.disconnect();
    this.sub.disconnect();
  }
}
