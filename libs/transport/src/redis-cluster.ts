import Redis, { Cluster, RedisOptions as IoRedisOptions } from 'ioredis';

/** A Redis Cluster node to discover the cluster from (ioredis reads the slot map off the first that answers). */
export interface ClusterSeed {
  host: string;
  port: number;
}

/**
 * The option under which the connection options of a cluster URL carry its seeds (redisConnection), so
 * that every connection Astral opens from them (openRedis) is a Redis Cluster client, not a plain one.
 */
export const CLUSTER_SEEDS = 'astralClusterSeeds';

/**
 * The seeds of a Redis Cluster URL, or null when the URL names one Redis (docs/CONTRACTS.md, "Redis
 * Cluster"). A cluster URL is a Redis URL with `?cluster=1`: its host and port are the first seed, and
 * `seed=host:port` parameters (repeated, or comma-separated) add more, so a process starts while some of
 * the nodes are down. Credentials and `rediss://` apply to every node. A database number is refused: a
 * Redis Cluster has only database 0.
 */
export function clusterSeeds(url: string): ClusterSeed[] | null {
  const u = new URL(url);
  const flag = u.searchParams.get('cluster');
  if (flag === null || flag === '0' || flag === 'false') return null;
  if (flag !== '1' && flag !== 'true' && flag !== '')
    throw new Error(`Redis URL: cluster=${flag} must be 1 or 0`);
  if (u.pathname.length > 1 && u.pathname !== '/0')
    throw new Error('Redis URL: a Redis Cluster has only database 0; drop the path from the URL');
  const seeds: ClusterSeed[] = [{ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) }];
  for (const list of u.searchParams.getAll('seed')) {
    for (const item of list.split(',').filter(Boolean)) {
      const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(item.trim());
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
        throw new Error(`Redis URL: seed=${item} is not host:port`);
      seeds.push({ host: m[1], port: Number(m[2]) });
    }
  }
  return seeds;
}

/** Options of openRedis: ioredis's, plus the cluster seeds redisConnection adds for a cluster URL. */
export type OpenRedisOptions = IoRedisOptions & {
  [CLUSTER_SEEDS]?: ClusterSeed[];
  /** Nest's transport options ride along; ioredis ignores them. */
  [other: string]: unknown;
};

/** Whether connection (or Nest transport) options name a Redis Cluster: they carry its seeds. */
export function namesCluster(options: object | undefined): boolean {
  return Boolean((options as OpenRedisOptions | undefined)?.[CLUSTER_SEEDS]);
}

/** How often a Cluster client reads the slot map without a reason (a MOVED or a lost node reads it at once). */
export const CLUSTER_SLOTS_REFRESH_MS = 60_000;

/** How long a command waits for a slot map or a failed-over shard before the Cluster client retries it. */
const CLUSTER_RETRY_DELAY_MS = 250;

/**
 * A connection to what the options name: one Redis (ioredis's `Redis`), or a Redis Cluster (ioredis's
 * `Cluster`, typed as `Redis`: it has the same commands, events, status and pub/sub). The Cluster client
 * routes keyed commands to their slot's master, sends PUBLISH and (P)SUBSCRIBE through any node (Redis
 * Cluster forwards a PUBLISH to every node, so a subscriber on any node hears it), moves its subscriber to
 * another node when its node goes away, and reconnects on the options' retryStrategy.
 *
 * The node connections get the options' credentials, TLS, timeouts and name; host, port and db are the
 * cluster's to choose.
 */
export function openRedis(options: OpenRedisOptions): Redis {
  const seeds = options[CLUSTER_SEEDS];
  const rest: OpenRedisOptions = { ...options };
  delete rest[CLUSTER_SEEDS];
  if (!seeds) return new Redis(rest);
  const { retryStrategy, lazyConnect, enableOfflineQueue } = rest;
  // The node connections: the cluster picks their host and port, and reconnects them itself.
  const node: OpenRedisOptions = { ...rest };
  for (const key of ['host', 'port', 'db', 'retryStrategy', 'lazyConnect', 'enableOfflineQueue'])
    delete node[key];
  const cluster = new Cluster(seeds, {
    lazyConnect: lazyConnect ?? false,
    enableOfflineQueue: enableOfflineQueue ?? true,
    redisOptions: node,
    clusterRetryStrategy: (times: number) => (retryStrategy ? (retryStrategy(times) ?? null) : null),
    retryDelayOnClusterDown: CLUSTER_RETRY_DELAY_MS,
    retryDelayOnFailover: CLUSTER_RETRY_DELAY_MS,
    retryDelayOnTryAgain: CLUSTER_RETRY_DELAY_MS,
    slotsRefreshTimeout: 5000,
    // ioredis reads the slot map again every 5 s by default: CLUSTER SLOTS and a 16,384-entry map per
    // process every 5 s, which for a fleet is the cluster's biggest load (measured: 1,000 nodes'
    // 2,000 processes stalled the bench's event loop for seconds). A moved slot (MOVED, ASK) or a lost
    // node makes the client read it at once anyway, so a minute is enough to notice added shards.
    slotsRefreshInterval: CLUSTER_SLOTS_REFRESH_MS,
    // SSUBSCRIBE goes to the master of the channel's slot: one subscriber per master in use, opened on
    // first use (a node's sharded channels all sit in its own slot: one such connection).
    shardedSubscribers: true,
  });
  return cluster as unknown as Redis;
}

/** Whether a connection openRedis made is a Redis Cluster client. */
export function isCluster(redis: Redis): boolean {
  return (redis as unknown as { isCluster?: boolean }).isCluster === true;
}

/**
 * The connection a Nest Redis client or server makes (createClient, createRedisClient) when its options
 * name a Redis Cluster: a Cluster client with Nest's retry strategy, connected when Nest connects it.
 * Null for a single Redis (Nest makes its own).
 */
export function nestClusterConnection(nestOptions: object | undefined): Redis | null {
  return namesCluster(nestOptions)
    ? openRedis({ ...(nestOptions as OpenRedisOptions), lazyConnect: true })
    : null;
}

/** A second connection like `redis` (same node or cluster, same options) under another client name. */
export function duplicateConnection(redis: Redis, connectionName: string): Redis {
  if (!isCluster(redis)) return redis.duplicate({ connectionName });
  const cluster = redis as unknown as Cluster;
  return cluster.duplicate([], {
    redisOptions: { ...cluster.options.redisOptions, connectionName },
  }) as unknown as Redis;
}

// cluster-key-slot (ioredis's own slot function) ships no types in the version ioredis uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const keySlot = require('cluster-key-slot') as (key: string) => number;

/**
 * The node of a Redis Cluster a sender's broadcast PUBLISHes go through: the master of its own slot
 * (`{<sender>}`, where its sharded channels live too), so that a process holds one publishing connection
 * whatever the number of shards. ioredis sends a PUBLISH to a random node, which in time connects every
 * process to every master. Null while the slot map or that node is not there (reconnecting): then the
 * Cluster client picks one.
 */
export function publishingNode(cluster: Redis, sender: string): Redis | null {
  const c = cluster as unknown as Cluster;
  const key = c.slots[keySlot(`{${sender}}`)]?.[0];
  if (!key) return null;
  const node = c.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === key);
  const usable = ['wait', 'connecting', 'connect', 'ready'];
  return node && usable.includes(node.status) ? node : null;
}
