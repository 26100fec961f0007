import { ClientRedis, MsPattern, ReadPacket, RedisOptions, WritePacket } from '@nestjs/microservices';
import {
  fromSender,
  shardedChannel,
  shardedReplyChannel,
  splitSender,
  travelsSharded,
} from '@astral/contracts';
import type Redis from 'ioredis';
import { namesCluster, nestClusterConnection, publishingNode } from './redis-cluster';

/** Where a packet goes: `<base>@<sender>` by PUBLISH, or `<base>@{<sender>}` by SPUBLISH. */
interface Route {
  base: string;
  sender: string;
  sharded: boolean;
}

/**
 * Nest's Redis client, made for a Redis Cluster when its options name one (redis-cluster.ts), and
 * Nest's own otherwise. On a cluster (docs/CONTRACTS.md, "Redis Cluster"):
 *
 * - replies come back sharded: the client SSUBSCRIBEs `<channel>@{<sender>}.reply` (its own slot, so one
 *   shard carries every reply it gets) and the servers SPUBLISH there (ScreenedRedisServer);
 * - a message to the sender's own node (`travelsSharded`: the relay and the agent of one node) is
 *   SPUBLISHed on `<channel>@{<sender>}`, which that node's server SSUBSCRIBEs;
 * - any other message is PUBLISHed on `<channel>@<sender>` as on one Redis: its receiver matches it by
 *   pattern, and a Redis Cluster forwards a PUBLISH to every node.
 *
 * The subclasses bind the sender (normalizePattern returns `<channel>@<sender>`).
 */
export abstract class ClusterAwareRedisClient extends ClientRedis {
  /** Whether this client's options name a Redis Cluster. */
  protected readonly sharded: boolean;
  private shardReplyListener?: (channel: string, buffer: string) => void;

  constructor(options: RedisOptions['options']) {
    super(options ?? {});
    this.sharded = namesCluster(options);
  }

  override createClient(): Redis {
    return nestClusterConnection(this.getClientOptions()) ?? (super.createClient() as Redis);
  }

  /**
   * Nest's reply reader, on sharded replies too: only on reply channels, since a subscriber shared with
   * the process's server (bus-connections.ts) also carries the server's sharded requests.
   */
  override createResponseCallback(): ReturnType<ClientRedis['createResponseCallback']> {
    const callback = super.createResponseCallback();
    if (this.sharded) {
      this.shardReplyListener = (channel: string, buffer: string) => {
        if (channel.endsWith('.reply')) void callback(channel, buffer);
      };
      this.redisOf('sub').on('smessage', this.shardReplyListener);
    }
    return callback;
  }

  /** Stops reading sharded replies on a subscriber that lives on (shared with the server). */
  protected stopReadingShardReplies(): void {
    if (this.shardReplyListener) this.redisOf('sub')?.off('smessage', this.shardReplyListener);
    this.shardReplyListener = undefined;
  }

  /** Nest's publish, with the sharded reply channel and request channel on a cluster. */
  protected override publish(partialPacket: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    if (!this.sharded) return super.publish(partialPacket, callback);
    try {
      const packet = this.assignPacketId(partialPacket);
      const route = this.routeOf(partialPacket);
      const replyChannel = shardedReplyChannel(route.base, route.sender);
      const message = JSON.stringify(this.serializer.serialize(packet));
      const send = () => {
        this.subscriptionsCount.set(replyChannel, (this.subscriptionsCount.get(replyChannel) ?? 0) + 1);
        this.routingMap.set(packet.id, callback);
        this.publishOn(route, message).catch((err: unknown) => this.failRequest(packet.id, err));
      };
      if ((this.subscriptionsCount.get(replyChannel) ?? 0) <= 0) {
        this.redisOf('sub')
          .ssubscribe(replyChannel)
          .then(send, (err: unknown) => callback({ err }));
      } else {
        send();
      }
      return () => {
        this.unsubscribeFromChannel(replyChannel);
        this.routingMap.delete(packet.id);
      };
    } catch (err) {
      callback({ err });
      return () => undefined;
    }
  }

  protected override dispatchEvent(packet: ReadPacket): Promise<unknown> {
    if (!this.sharded) return super.dispatchEvent(packet);
    return this.publishOn(this.routeOf(packet), JSON.stringify(this.serializer.serialize(packet)));
  }

  protected override unsubscribeFromChannel(channel: string): void {
    if (!this.sharded) return super.unsubscribeFromChannel(channel);
    const left = (this.subscriptionsCount.get(channel) ?? 0) - 1;
    this.subscriptionsCount.set(channel, left);
    if (left <= 0) {
      this.subscriptionsCount.delete(channel);
      this.redisOf('sub')
        .sunsubscribe(channel)
        .catch(() => undefined);
    }
  }

  /** How a packet goes out: its base channel and sender, and whether it travels sharded. */
  private routeOf(packet: ReadPacket): Route {
    const split = splitSender(this.normalizePattern(packet.pattern as MsPattern));
    if (!split) throw new Error(`bus channel ${String(packet.pattern)} has no sender`);
    return { ...split, sharded: travelsSharded(split.base, split.sender) };
  }

  /** SPUBLISH on the sharded channel; else PUBLISH through the sender's own slot's master. */
  private publishOn({ base, sender, sharded }: Route, message: string): Promise<unknown> {
    const pub = this.redisOf('pub');
    if (sharded) return pub.spublish(shardedChannel(base, sender), message);
    return (publishingNode(pub, sender) ?? pub).publish(fromSender(base, sender), message);
  }

  private failRequest(id: string, err: unknown): void {
    const callback = this.routingMap.get(id) as ((p: WritePacket) => void) | undefined;
    this.routingMap.delete(id);
    callback?.({ err, isDisposed: true });
  }

  /** Nest's publisher or subscriber, typed (Nest declares ioredis's type loosely; null before connect). */
  protected redisOf(role: 'pub' | 'sub'): Redis {
    return (role === 'pub' ? this.pubClient : this.subClient) as Redis;
  }
}
