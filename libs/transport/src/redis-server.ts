import { ReadPacket, RedisContext, RedisOptions, ServerRedis } from '@nestjs/microservices';
import type Redis from 'ioredis';
import { LogThrottle } from '@astral/net';
import {
  AstralError,
  SELF,
  isSenderId,
  senderAllowed,
  shardedChannel,
  shardedReplyChannel,
  splitSender,
  targetOf,
} from '@astral/contracts';
import { ScreenedPacket, screenMessage } from './message-screen';
import { BusConnections } from './bus-connections';
import { namesCluster, nestClusterConnection } from './redis-cluster';

/** The publishing side of Nest's Redis server (its pub client; SPUBLISH on a Redis Cluster). */
type RedisPublisher = {
  publish(channel: string, message: string): Promise<unknown>;
  spublish?(channel: string, message: string): Promise<unknown>;
};

/**
 * Nest's Redis transport server, screened and sender-bound (docs/SECURITY.md). Every channel a sender
 * writes ends with `@<sender>`, which Redis ACLs let only that sender write (libs/transport/src/acl.ts),
 * so this server knows who sent each message. Before Nest sees a message it must pass:
 *
 * 1. the sender suffix: a channel without one, or naming a sender that is not a node id, is refused;
 * 2. `screenMessage` (size, depth, JSON, packet shape);
 * 3. `senderAllowed` (BUS_SENDERS of @astral/contracts): only the node itself may command its relay,
 *    and a payload that names a node must name the sender.
 *
 * A refused message is logged (throttled) and, when it is a request whose id could be read, answered
 * with an AstralErrorBody (400 or 403) on the sender's reply channel; it never reaches a handler.
 * Nothing a message does rejects into the process.
 *
 * Subscriptions are one PSUBSCRIBE per namespace (`directory.*`, `node.<id>.*`, `relay.<id>.*`): Redis
 * checks PSUBSCRIBE patterns literally against the ACL's. Replies (`….reply`) that the namespace pattern
 * also matches are dropped unread.
 *
 * On a Redis Cluster (options from a `?cluster=1` URL; docs/CONTRACTS.md, "Redis Cluster") the server
 * also SSUBSCRIBEs the sharded channels of the messages its own node sends it (`<channel>@{<id>}`, one
 * slot per node), and answers every request with SPUBLISH on the requester's sharded reply channel.
 */
export class ScreenedRedisServer extends ServerRedis {
  private readonly refusals = new LogThrottle();
  /** Messages refused so far, by kind (no-sender, too-large, too-deep, not-json, bad-shape, forbidden). */
  readonly refused: Record<string, number> = {};

  /** Connections created so far: Nest creates the subscriber, then the publisher. */
  private created = 0;
  private listener?: {
    sub: Redis;
    onMessage: (...args: string[]) => void;
    onShardMessage: (...args: string[]) => void;
    patterns: string[];
    shardChannels: string[];
  };
  /** Whether the options name a Redis Cluster (sharded replies and self-addressed messages). */
  protected readonly sharded: boolean;
  /** Settles once Redis has applied the subscriptions bindEvents made. */
  private subscribed?: Promise<void>;

  constructor(
    options: RedisOptions['options'],
    /** The process's bus connections, shared with its client (bus-connections.ts); else its own two. */
    private readonly connections?: BusConnections,
  ) {
    super(options ?? {});
    this.sharded = namesCluster(options);
  }

  override createRedisClient(): Redis {
    if (!this.connections)
      return nestClusterConnection(this.getClientOptions()) ?? (super.createRedisClient() as Redis);
    return this.connections.take(this.created++ % 2 === 0 ? 'sub' : 'pub');
  }

  /** Closes; on a shared subscriber, first stops this server's subscriptions (the client reads on). */
  override async close(): Promise<void> {
    const l = this.listener;
    this.listener = undefined;
    if (l && this.connections) {
      l.sub.off('pmessage', l.onMessage).off('smessage', l.onShardMessage);
      if (l.sub.status === 'ready') {
        await l.sub.punsubscribe(...l.patterns).catch(() => undefined);
        if (l.shardChannels.length) await l.sub.sunsubscribe(...l.shardChannels).catch(() => undefined);
      }
    }
    await super.close();
    this.created = 0;
  }

  /** The PSUBSCRIBE patterns that cover every handler: one per channel namespace. */
  subscriptionPatterns(): string[] {
    const patterns = new Set<string>();
    for (const key of this.messageHandlers.keys()) {
      const namespace = key.split('.')[0];
      const target = targetOf(key);
      patterns.add(target === null ? `${namespace}.*` : `${namespace}.${target}.*`);
    }
    return [...patterns];
  }

  /**
   * On a Redis Cluster, the sharded channels of its node-addressed handlers (`<channel>@{<id>}`): what
   * the node itself sends them (`travelsSharded`). All sit in the node's slot.
   */
  shardedSubscriptions(): string[] {
    if (!this.sharded) return [];
    const channels: string[] = [];
    for (const key of this.messageHandlers.keys()) {
      const target = targetOf(key);
      if (target !== null && target !== SELF) channels.push(shardedChannel(key, target));
    }
    return channels;
  }

  override bindEvents(subClient: Redis, pubClient: Redis): void {
    const patterns = this.subscriptionPatterns();
    const mine = new Set(patterns);
    // A shared subscriber also carries another server's patterns (the agent's and the relay's in one process).
    const onMessage = (pattern: string, channel: string, buffer: string) => {
      if (mine.has(pattern)) void this.handleMessage(channel, buffer, pubClient, pattern);
    };
    const shardChannels = this.shardedSubscriptions();
    const mineSharded = new Set(shardChannels);
    const onShardMessage = (channel: string, buffer: string) => {
      if (mineSharded.has(channel)) void this.handleMessage(channel, buffer, pubClient, channel);
    };
    subClient.on('pmessage', onMessage);
    if (this.sharded) subClient.on('smessage', onShardMessage);
    this.listener = { sub: subClient, onMessage, onShardMessage, patterns, shardChannels };
    const subscriptions = patterns.map((pattern) => subClient.psubscribe(pattern));
    if (shardChannels.length) subscriptions.push(subClient.ssubscribe(...shardChannels));
    this.subscribed = Promise.allSettled(subscriptions).then((results) => {
      for (const r of results) {
        if (r.status === 'fulfilled') continue;
        this.logger.error({
          msg: 'a bus subscription failed; the messages it covers are not received',
          err: r.reason instanceof Error ? r.reason.message : String(r.reason),
        });
      }
    });
  }

  /**
   * Nest's start, reporting "listening" only once the subscriptions are in place: a message published
   * before Redis applied them would be lost (pub/sub keeps nothing), and on a Redis Cluster the
   * subscriber connection is opened by the first (P)SUBSCRIBE.
   */
  override start(callback?: () => void): void {
    // Nest also calls it with the error when connecting failed (`.catch(callback)`).
    const done: ((err?: unknown) => void) | undefined = callback;
    super.start((err?: unknown) => {
      if (err) return done?.(err);
      void (this.subscribed ?? Promise.resolve()).then(() => done?.());
    });
  }

  /** Where the answer to a request received on `channel` goes, and how (SPUBLISH on a cluster). */
  protected publishReply(pub: RedisPublisher, channel: string, message: string): Promise<unknown> {
    const split = this.sharded ? splitSender(channel) : null;
    if (split && pub.spublish) return pub.spublish(shardedReplyChannel(split.base, split.sender), message);
    return pub.publish(this.getReplyPattern(channel), message);
  }

  override getPublisher(
    pub: RedisPublisher,
    pattern: string,
    id: string,
    ctx: RedisContext,
  ): (response: object) => Promise<unknown> {
    if (!this.sharded) return super.getPublisher(pub, pattern, id, ctx) as (r: object) => Promise<unknown>;
    return (response: object) => {
      const outgoing: unknown = this.serializer.serialize(Object.assign(response, { id }));
      this.onProcessingEndHook?.(this.transportId, ctx);
      return this.publishReply(pub, pattern, JSON.stringify(outgoing));
    };
  }

  override handleMessage(
    channel: string,
    buffer: string,
    pub: RedisPublisher,
    _pattern: string,
  ): Promise<unknown> {
    if (channel.endsWith('.reply')) return Promise.resolve();
    const split = splitSender(channel);
    if (!split || !isSenderId(split.sender)) {
      const screened = screenMessage(buffer);
      const id = screened.ok ? screened.packet.id : screened.id;
      return this.refuse(channel, pub, channel, id, 'no-sender', {
        status: 'bad-request',
        reason: 'the channel must end with @<sender id> (an Astral client older than this server?)',
      });
    }
    const { base, sender } = split;
    const screened = screenMessage(buffer);
    if (!screened.ok) {
      return this.refuse(channel, pub, channel, screened.id, screened.kind, {
        status: 'bad-request',
        reason: `refused: ${screened.reason}`,
        bytes: Buffer.byteLength(buffer),
      });
    }
    const allowed = senderAllowed(base, sender, screened.packet.data);
    if (!allowed.ok) {
      return this.refuse(channel, pub, channel, screened.packet.id, 'forbidden', {
        status: 'forbidden',
        reason: `${sender} may not send this: ${allowed.reason}`,
        sender,
      });
    }
    return this.safely(channel, this.handleScreened(base, screened.packet, pub, channel));
  }

  private refuse(
    channel: string,
    pub: RedisPublisher,
    replyTo: string,
    id: string | undefined,
    kind: string,
    why: { status: 'bad-request' | 'forbidden'; reason: string; [k: string]: unknown },
  ): Promise<unknown> {
    const { status, reason, ...context } = why;
    this.refused[kind] = (this.refused[kind] ?? 0) + 1;
    const suppressed = this.refusals.take(`${channel}|${kind}`);
    if (suppressed !== null) {
      this.logger.warn({
        msg: 'redis message refused',
        channel: channel.slice(0, 200),
        reason,
        ...context,
        ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
      });
    }
    if (!id) return Promise.resolve();
    const err = new AstralError(status, reason).toBody();
    return this.safely(
      channel,
      this.publishReply(pub, replyTo, JSON.stringify({ id, err, isDisposed: true })),
    );
  }

  /**
   * Dispatches a packet that passed the screen and the sender check to its handler, as Nest's own
   * handleMessage does, but answers on the sender's reply channel (`<channel>@<sender>.reply`). A
   * subclass may wrap it (the directory keeps the request id for idempotency).
   */
  protected async handleScreened(
    channel: string,
    packet: ScreenedPacket,
    pub: RedisPublisher,
    replyTo: string,
  ): Promise<unknown> {
    const ctx = new RedisContext([channel]);
    if (packet.id === undefined) return this.handleEvent(channel, packet as ReadPacket, ctx);
    const publish = this.getPublisher(pub, replyTo, packet.id, ctx);
    const handler = this.getHandlerByPattern(channel);
    if (!handler) {
      const err = new AstralError('not-found', `nothing here answers ${channel}`).toBody();
      return publish({ err, isDisposed: true });
    }
    return new Promise<void>((resolve, reject) => {
      this.onProcessingStartHook(this.transportId, ctx, async () => {
        try {
          const response$ = this.transformToObservable(await handler(packet.data, ctx));
          if (response$) this.send(response$, publish);
          resolve();
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
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
    connections?: BusConnections,
  ) {
    super(options, connections);
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
