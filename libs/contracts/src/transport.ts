import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ClientProxy, RedisOptions, RpcException, ServerRedis, Transport } from '@nestjs/microservices';
import { TimeoutError, firstValueFrom, timeout } from 'rxjs';
import { LogThrottle } from '@astral/net';
import { AstralError } from './errors';
import { ScreenedPacket, screenMessage } from './message-screen';
import { SELF } from './patterns';

export * from './message-screen';

export interface RedisTransportSettings {
  url: string;
  /** Reconnect attempts before giving up; Astral processes never give up by default. */
  retryAttempts?: number;
  retryDelayMs?: number;
}

/**
 * A command queued while Redis is unreachable is failed after this many reconnect attempts (ioredis
 * `maxRetriesPerRequest`), so the offline queue holds at most about (N + 1) × (retry delay + connect
 * time) of traffic and never replays stale messages after a long outage.
 */
export const REDIS_OFFLINE_RETRIES = 2;
/** A connect attempt to an address that does not answer (a partition) gives up after this long. */
export const REDIS_CONNECT_TIMEOUT_MS = 3000;

/**
 * Redis transport options with explicit reconnect settings. Without retryAttempts/retryDelay the Nest
 * server stops reconnecting after the first drop, so both are always set.
 *
 * The offline queue is bounded in time: requests and events sent through a Nest client while Redis is
 * away already fail at once (the client's connection promise is rejected while it reconnects), and the
 * callers have timeouts and retries; what can still queue (a server's reply to a request that was in
 * flight when Redis went away) is failed after REDIS_OFFLINE_RETRIES reconnect attempts — about 1 s on
 * a refused connection, about 10 s on a partition — instead of waiting, without bound, to be replayed.
 * The queue stays enabled so that quit() while Redis is away still closes cleanly, and subscriptions
 * are restored by ioredis on reconnect (autoResubscribe) whatever the queue.
 */
export function redisTransport(settings: RedisTransportSettings): RedisOptions {
  const u = new URL(settings.url);
  return {
    transport: Transport.REDIS,
    options: {
      host: u.hostname,
      port: Number(u.port || 6379),
      ...(u.password && { password: decodeURIComponent(u.password) }),
      ...(u.username && { username: decodeURIComponent(u.username) }),
      ...(u.pathname.length > 1 && { db: Number(u.pathname.slice(1)) }),
      retryAttempts: settings.retryAttempts ?? Number.MAX_SAFE_INTEGER,
      retryDelay: settings.retryDelayMs ?? 250,
      enableOfflineQueue: true,
      maxRetriesPerRequest: REDIS_OFFLINE_RETRIES,
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    },
  };
}

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

  override handleMessage(channel: string, buffer: string, pub: RedisPublisher, pattern: string): Promise<unknown> {
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
      return this.safely(channel, pub.publish(this.getReplyPattern(channel), JSON.stringify({ id: screened.id, err, isDisposed: true })));
    }
    return this.safely(channel, this.handleScreened(channel, screened.packet, pub, pattern));
  }

  /** Nest's own handling of a packet that passed the screen; a subclass may wrap it (the directory keeps the id). */
  protected handleScreened(channel: string, packet: ScreenedPacket, pub: RedisPublisher, pattern: string): Promise<unknown> {
    // Handed on already parsed: parseMessage below passes objects through.
    return super.handleMessage(channel, packet as unknown as string, pub as Parameters<ServerRedis['handleMessage']>[2], pattern);
  }

  override parseMessage(content: unknown): Record<string, unknown> {
    return typeof content === 'object' && content !== null && !Buffer.isBuffer(content)
      ? (content as Record<string, unknown>)
      : (super.parseMessage(content) as Record<string, unknown>);
  }

  private safely(channel: string, work: Promise<unknown>): Promise<unknown> {
    return work.catch((err: unknown) => {
      this.logger.error({ msg: 'redis message handling failed', channel: channel.slice(0, 200), err: err instanceof Error ? err.message : String(err) });
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

function flattenFields(errors: ValidationError[], prefix = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors) {
    const key = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) out[key] = Object.values(e.constraints);
    if (e.children?.length) Object.assign(out, flattenFields(e.children, key));
  }
  return out;
}

export function validationError(errors: ValidationError[]): AstralError {
  const fields = flattenFields(errors);
  return new AstralError('bad-request', `invalid message: ${Object.keys(fields).join(', ') || 'malformed body'}`, fields);
}

/** Validates every incoming message; a bad one is answered with a 400 body naming the fields. */
export function rpcValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => new RpcException(validationError(errors).toBody()),
  });
}

/** Turns a domain error into what the Redis transport sends back. */
export function toRpcException(err: unknown): RpcException {
  if (err instanceof RpcException) return err;
  if (err instanceof AstralError) return new RpcException(err.toBody());
  const message = err instanceof Error ? err.message : String(err);
  return new RpcException(new AstralError('unavailable', message).toBody());
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 3000;

/**
 * Sends a request with a timeout and translates transport errors into AstralError, so a dead peer
 * is a 'timeout', never a hang.
 */
export async function request<T>(
  client: ClientProxy,
  pattern: string,
  data: object,
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<T> {
  try {
    return await firstValueFrom(client.send<T>(pattern, data).pipe(timeout(timeoutMs)));
  } catch (err) {
    if (err instanceof TimeoutError) {
      throw new AstralError('timeout', `no answer to ${pattern} within ${timeoutMs} ms; the peer may be down`);
    }
    if (err instanceof AstralError) throw err;
    throw AstralError.fromBody(err);
  }
}

/** Fire-and-forget event; a Redis outage is logged by the caller, never thrown into a hot path. */
export async function emit(client: ClientProxy, pattern: string, data: object, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<void> {
  try {
    await firstValueFrom(client.emit(pattern, data).pipe(timeout(timeoutMs)), { defaultValue: undefined });
  } catch (err) {
    if (err instanceof TimeoutError) throw new AstralError('timeout', `event ${pattern} not published within ${timeoutMs} ms`);
    throw AstralError.fromBody(err);
  }
}
