import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ClientProxy, RedisOptions, RpcException, ServerRedis, Transport } from '@nestjs/microservices';
import { TimeoutError, firstValueFrom, timeout } from 'rxjs';
import { AstralError } from './errors';
import { SELF } from './patterns';

export interface RedisTransportSettings {
  url: string;
  /** Reconnect attempts before giving up; Astral processes never give up by default. */
  retryAttempts?: number;
  retryDelayMs?: number;
}

/**
 * Redis transport options with explicit reconnect settings. Without retryAttempts/retryDelay the Nest
 * server stops reconnecting after the first drop, so both are always set.
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
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
    },
  };
}

/**
 * The Redis transport server for node- and relay-addressed patterns: a handler declared with the
 * `{self}` placeholder is registered under this node's own id, so only this process receives it.
 */
export class NodeAddressedRedisServer extends ServerRedis {
  constructor(
    private readonly nodeId: string,
    options: RedisOptions['options'],
  ) {
    super(options ?? {});
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
