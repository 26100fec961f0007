import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { RedisOptions, Transport } from '@nestjs/microservices';
import { CLUSTER_SEEDS, clusterSeeds } from './redis-cluster';

export interface RedisTransportSettings {
  url: string;
  /** Reconnect attempts before giving up; Astral processes never give up by default. */
  retryAttempts?: number;
  retryDelayMs?: number;
  /** PEM CA bundle that signs the server's certificate, for `rediss://` (else the system's CAs). */
  caFile?: string;
}

/**
 * ioredis connection options of a Redis URL: host, port, user, password, db, and TLS for `rediss://`
 * (ioredis does not turn TLS on from the URL by itself). Shared by the bus and the direct connections.
 * A Redis Cluster URL (`?cluster=1`, redis-cluster.ts) adds its seeds, so that openRedis makes a
 * Cluster client of them.
 */
export function redisConnection(url: string, caFile?: string) {
  const u = new URL(url);
  const tls = u.protocol === 'rediss:';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const seeds = clusterSeeds(url);
  return {
    host,
    port: Number(u.port || 6379),
    ...(u.password && { password: decodeURIComponent(u.password) }),
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.pathname.length > 1 && !seeds && { db: Number(u.pathname.slice(1)) }),
    ...(seeds && { [CLUSTER_SEEDS]: seeds }),
    ...(tls && {
      tls: { ...(isIP(host) === 0 && { servername: host }), ...(caFile && { ca: readFileSync(caFile) }) },
    }),
  };
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
  return {
    transport: Transport.REDIS,
    options: {
      ...redisConnection(settings.url, settings.caFile),
      retryAttempts: settings.retryAttempts ?? Number.MAX_SAFE_INTEGER,
      retryDelay: settings.retryDelayMs ?? 250,
      enableOfflineQueue: true,
      maxRetriesPerRequest: REDIS_OFFLINE_RETRIES,
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    },
  };
}
