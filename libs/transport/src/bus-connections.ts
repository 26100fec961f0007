import { createHash } from 'node:crypto';
import Redis from 'ioredis';
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
  ) {}

  /** The connection of a role, for one more user (who must quit it once, when done). */
  take(role: BusRole): Redis {
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
    return this.shared.get(role)?.users ?? 0;
  }

  private open(role: BusRole): Shared {
    const redis = this.make(role);
    const s: Shared = { redis, users: 0 };
    redis.options.retryStrategy = () => (s.users > 0 ? this.retryDelayMs : null);
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

const perProcess = new Map<string, BusConnections>();

/**
 * The process's shared bus connections for one Redis (`key`: what tells two Redis endpoints or users
 * apart, for example a hash of the URL). Called by both the client and the server factories of an app.
 */
export function processBusConnections(
  key: string,
  make: (role: BusRole) => Redis,
  retryDelayMs?: number,
): BusConnections {
  let c = perProcess.get(key);
  if (!c) {
    c = new BusConnections(make, retryDelayMs);
    perProcess.set(key, c);
  }
  return c;
}

/**
 * The shared bus connections of this process for these settings: the agent, relay and directory pass
 * them to both their bus client (busClient) and their bus server, so a process holds one publisher and
 * one subscriber connection to the bus.
 */
export function sharedBusConnections(settings: RedisTransportSettings): BusConnections {
  const key = createHash('sha256')
    .update(settings.url)
    .update('\0')
    .update(settings.caFile ?? '')
    .digest('base64url');
  const options = redisTransport(settings).options;
  return processBusConnections(
    key,
    (role) => new Redis({ ...options, lazyConnect: true, connectionName: `astral-bus-${role}` }),
    settings.retryDelayMs,
  );
}
