import { RedisOptions, ServerRedis } from '@nestjs/microservices';
import { LogThrottle } from '@astral/net';
import { AstralError, SELF } from '@astral/contracts';
import { ScreenedPacket, screenMessage } from './message-screen';

/** The publishing side of Nest's Redis server (its pub client). */
type RedisPublisher = { publish(channel: string, message: string): Promise<unknown> };

/**
 * Nest's Redis transport server, screened: every message on a subscribed channel comes from any Redis
 * client, so before Nest sees it it must pass `screenMessage` (size, depth, JSON, packet shape). A
 * refused message is logged (throttled) and, when it is a request whose id could be read, answered with
 * a 400 AstralErrorBody; it never reaches a handler. Nothing a message does rejects into the process.
 */
export class ScreenedRedisServer extends ServerRedis {
  private readonly refusals = new LogThrottle();
  /** Messages refused so far, by kind (too-large, too-deep, not-json, bad-shape). */
  readonly refused: Record<string, number> = {};

  constructor(options: RedisOptions['options']) {
    super(options ?? {});
  }

  override handleMessage(
    channel: string,
    buffer: string,
    pub: RedisPublisher,
    pattern: string,
  ): Promise<unknown> {
    const screened = screenMessage(buffer);
    if (!screened.ok) {
      this.refused[screened.kind] = (this.refused[screened.kind] ?? 0) + 1;
      const suppressed = this.refusals.take(`${channel}|${screened.kind}`);
      if (suppressed !== null) {
        this.logger.warn({
          msg: 'redis message refused',
          channel: channel.slice(0, 200),
          reason: screened.reason,
          bytes: Buffer.byteLength(buffer),
          ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
        });
      }
      if (!screened.id) return Promise.resolve();
      const err = new AstralError('bad-request', `refused: ${screened.reason}`).toBody();
      return this.safely(
        channel,
        pub.publish(
          this.getReplyPattern(channel),
          JSON.stringify({ id: screened.id, err, isDisposed: true }),
        ),
      );
    }
    return this.safely(channel, this.handleScreened(channel, screened.packet, pub, pattern));
  }

  /** Nest's own handling of a packet that passed the screen; a subclass may wrap it (the directory keeps the id). */
  protected handleScreened(
    channel: string,
    packet: ScreenedPacket,
    pub: RedisPublisher,
    pattern: string,
  ): Promise<unknown> {
    // Handed on already parsed: parseMessage below passes objects through.
    return super.handleMessage(
      channel,
      packet as unknown as string,
      pub as Parameters<ServerRedis['handleMessage']>[2],
      pattern,
    );
  }

  override parseMessage(content: unknown): Record<string, unknown> {
    return typeof content === 'object' && content !== null && !Buffer.isBuffer(content)
      ? (content as Record<string, unknown>)
      : (super.parseMessage(content) as Record<string, unknown>);
  }

  private safely(channel: string, work: Promise<unknown>): Promise<unknown> {
    return work.catch((err: unknown) => {
      this.logger.error({
        msg: 'redis message handling failed',
        channel: channel.slice(0, 200),
        err: err instanceof Error ? err.message : String(err),
      });
    });
  }
}

/**
 * The Redis transport server for node- and relay-addressed patterns: a handler declared with the
 * `{self}` placeholder is registered under this node's own id, so only this process receives it.
 */
export class NodeAddressedRedisServer extends ScreenedRedisServer {
  constructor(
    private readonly nodeId: string,
    options: RedisOptions['options'],
  ) {
    super(options);
  }

  override addHandler(
    pattern: unknown,
    callback: Parameters<ServerRedis['addHandler']>[1],
    isEventHandler?: boolean,
    extras?: Record<string, unknown>,
  ): void {
    const concrete = typeof pattern === 'string' ? pattern.split(SELF).join(this.nodeId) : pattern;
    super.addHandler(concrete, callback, isEventHandler, extras);
  }
}
