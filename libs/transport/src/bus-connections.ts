import type { Cluster, Redis } from 'ioredis';
import { isCluster, namesCluster, openRedis } from './redis-cluster';
import { RedisTransportSettings, redisTransport } from './redis-transport';

/** Which of the two bus connections: the publisher (commands, PUBLISH) or the subscriber (SUBSCRIBE mode). */
export type BusRole = 'pub' | 'sub';

interface Shared {
  redis: Redis;
  users: number;
  connecting?: Promise<void>;
}

/**
 * The two Redis connections of one process's bus, shared by its Nest client and its Nest server
 * (docs/DIRECTORY.md, "The bus"): without them each opens a publisher and a subscriber, four per
 * process and eight per node (agent and relay). They can share because they listen for different
 * things on the subscriber: the server PSUBSCRIBEs its namespaces and reads `pmessage` (and drops
 * `….reply`), the client SUBSCRIBEs its reply channels and reads `message`.
 *
 * Each user is handed the same ioredis instance per role, with `connect` made idempotent (the second
 * caller gets the first's promise, or none once ready) and `quit` counted: the connection closes when
 * its last user quits, and the next user after that gets a new one.
 */
export class BusConnections {
  private readonly shared = new Map<BusRole, Shared>();

  /**
   * `make(role)` opens a connection with lazyConnect (its options: whichever user asked first). It is
   * reconnected every `retryDelayMs` while anyone uses it, whatever its first user's retry strategy says
   * (Nest's stops once its owner closed, which would strand the other user).
   */
  constructor(
    private readonly make: (role: BusRole) => Redis,
    private readonly retryDelayMs = 250,
    /**
     * One client for both roles: a Redis Cluster client, which keeps its subscriber connections apart
     * from the ones it sends commands on, so one instance publishes and subscribes.
     */
    private readonly oneForBoth = false,
  ) {}

  /** The connection of a role, for one more user (who must quit it once, when done). */
  take(wanted: BusRole): Redis {
    const role: BusRole = this.oneForBoth ? 'pub' : wanted;
    let s = this.shared.get(role);
    if (!s) {
      s = this.open(role);
      this.shared.set(role, s);
    }
    s.users++;
    return s.redis;
  }

  /** Users of each role now (for the specs and metrics). */
  users(role: BusRole): number {
    return this.shared.get(this.oneForBoth ? 'pub' : role)?.users ?? 0;
  }

  private open(role: BusRole): Shared {
    const redis = this.make(role);
    const s: Shared = { redis, users: 0 };
    const retry = () => (s.users > 0 ? this.retryDelayMs : null);
    if (isCluster(redis)) (redis as unknown as Cluster).options.clusterRetryStrategy = retry;
    else redis.options.retryStrategy = retry;
    const connect = redis.connect.bind(redis);
    const quit = redis.quit.bind(redis);
    redis.connect = () => {
      if (s.connecting) return s.connecting;
      if (redis.status === 'ready') return Promise.resolve();
      // Connecting for its other user: ready when that is.
      if (redis.status === 'connecting' || redis.status === 'connect')
        return new Promise<void>((resolve) => redis.once('ready', () => resolve()));
      // Not connected, or between reconnect attempts (ioredis's own reconnect timer calls this too).
      s.connecting = connect().finally(() => (s.connecting = undefined));
      return s.connecting;
    };
    redis.quit = (callback?: (err?: Error | null, res?: 'OK') => void) => {
      s.users = Math.max(0, s.users - 1);
      if (s.users > 0) {
        callback?.(null, 'OK');
        return Promise.resolve('OK');
      }
      if (this.shared.get(role) === s) this.shared.delete(role);
      return callback ? quit(callback) : quit();
    };
    return s;
  }
}

/**
 * A process's bus connections for these settings, to pass to both its bus client (busClient) and its bus
 * server, so it holds one publisher and one subscriber (named `astral-bus-pub` and `astral-bus-sub`); on
 * a Redis Cluster, one Cluster client (`astral-bus`) with its subscriber connections.
 */
export function busConnections(settings: RedisTransportSettings): BusConnections {
  const options = redisTransport(settings).options;
  const cluster = namesCluster(options);
  return new BusConnections(
    (role) =>
      openRedis({
        ...options,
        lazyConnect: true,
        connectionName: cluster ? 'astral-bus' : `astral-bus-${role}`,
      }),
    settings.retryDelayMs,
    // On a Redis Cluster one Cluster client per process: it publishes through its own slot's master
    // (publishingNode) and subscribes on a connection of its own, and SSUBSCRIBEs on one more.
    cluster,
  );
}
