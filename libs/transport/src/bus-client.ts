import { ClientProxy, ClientRedis, MsPattern, ReadPacket, RedisOptions } from '@nestjs/microservices';
import { OPERATOR_SENDER, claimedSender, fromSender, isSenderId } from '@astral/contracts';
import type Redis from 'ioredis';
import { RedisTransportSettings, redisTransport } from './redis-transport';
import { BusConnections } from './bus-connections';
import { ClusterAwareRedisClient } from './sharded-client';

/**
 * Nest's Redis client, sender-bound: every request and event goes out on `<channel>@<sender>` and its
 * reply comes back on `<channel>@<sender>.reply`, the channels Redis ACLs let only this sender write and
 * read (acl.ts). The servers (ScreenedRedisServer) read the sender from the channel.
 */
export class SenderBoundRedisClient extends ClusterAwareRedisClient {
  /** Connections created so far: Nest creates the publisher, then the subscriber. */
  private created = 0;
  private replyListener?: ReturnType<ClientRedis['createResponseCallback']>;

  constructor(
    readonly sender: string,
    options: RedisOptions['options'],
    /** The process's bus connections, shared with its server (bus-connections.ts); else its own two. */
    private readonly connections?: BusConnections,
  ) {
    if (!isSenderId(sender)) throw new Error(`bus sender ${JSON.stringify(sender)} is not a node id`);
    super(options);
  }

  protected override normalizePattern(pattern: MsPattern | string): string {
    return fromSender(super.normalizePattern(pattern), this.sender);
  }

  override createClient(): Redis {
    if (!this.connections) return super.createClient();
    return this.connections.take(this.created++ % 2 === 0 ? 'pub' : 'sub');
  }

  override createResponseCallback(): ReturnType<ClientRedis['createResponseCallback']> {
    this.replyListener = super.createResponseCallback();
    return this.replyListener;
  }

  /**
   * Nest starts reading replies on the subscriber's first `ready`; a shared subscriber the server made
   * ready before this client connected has had it already, so the client starts reading here.
   */
  override async connect(): Promise<unknown> {
    const connected: unknown = await super.connect();
    const sub = this.redisOf('sub') as Redis | null;
    if (this.connections && !this.replyListener && sub?.status === 'ready') {
      this.wasInitialConnectionSuccessful = true;
      // Nest's own callback, as Nest attaches it: it handles its errors itself.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      sub.on('message', this.createResponseCallback());
    }
    return connected;
  }

  override async close(): Promise<void> {
    if (!this.connections) return super.close();
    // A shared subscriber lives on for the server: stop reading replies on it.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    if (this.replyListener) this.redisOf('sub')?.off('message', this.replyListener);
    this.stopReadingShardReplies();
    this.replyListener = undefined;
    await super.close();
    this.created = 0;
    this.wasInitialConnectionSuccessful = false;
  }
}

/** The Redis bus client of one sender: a node's id, `directory`, or `operator` (reads only). */
export function busClient(
  sender: string,
  settings: RedisTransportSettings,
  connections?: BusConnections,
): ClientProxy {
  // ClientRedis narrows its status type; the typed clients take the ClientProxy it is.
  return new SenderBoundRedisClient(
    sender,
    redisTransport(settings).options,
    connections,
  ) as unknown as ClientProxy;
}

/**
 * A client that sends each message as the node its payload names (`claimedSender`), for the tests,
 * benches and operator tools that speak for many nodes at once. Redis lets it do so only where its user
 * may write every sender's channels: no ACL (a lab), the admin user, or the trusted `seeder` role. A
 * per-node user cannot (the security suite shows Redis refusing it).
 */
export class ClaimingRedisClient extends ClusterAwareRedisClient {
  private claim: string | undefined;

  protected override publish(
    ...args: Parameters<ClientRedis['publish']>
  ): ReturnType<ClientRedis['publish']> {
    this.claim = claimedSender(String(args[0].pattern), args[0].data);
    try {
      return super.publish(...args);
    } finally {
      this.claim = undefined;
    }
  }

  protected override dispatchEvent(packet: ReadPacket): Promise<unknown> {
    this.claim = claimedSender(String(packet.pattern), packet.data);
    try {
      return super.dispatchEvent(packet);
    } finally {
      this.claim = undefined;
    }
  }

  protected override normalizePattern(pattern: MsPattern | string): string {
    return fromSender(super.normalizePattern(pattern), this.claim ?? OPERATOR_SENDER);
  }
}

export function claimingBusClient(settings: RedisTransportSettings): ClientProxy {
  return new ClaimingRedisClient(redisTransport(settings).options) as unknown as ClientProxy;
}
