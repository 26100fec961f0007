import { ClientProxy, ClientRedis, MsPattern, ReadPacket, RedisOptions } from '@nestjs/microservices';
import { OPERATOR_SENDER, claimedSender, fromSender, isSenderId } from '@astral/contracts';
import { RedisTransportSettings, redisTransport } from './redis-transport';

/**
 * Nest's Redis client, sender-bound: every request and event goes out on `<channel>@<sender>` and its
 * reply comes back on `<channel>@<sender>.reply`, the channels Redis ACLs let only this sender write and
 * read (acl.ts). The servers (ScreenedRedisServer) read the sender from the channel.
 */
export class SenderBoundRedisClient extends ClientRedis {
  constructor(
    readonly sender: string,
    options: RedisOptions['options'],
  ) {
    if (!isSenderId(sender)) throw new Error(`bus sender ${JSON.stringify(sender)} is not a node id`);
    super(options ?? {});
  }

  protected override normalizePattern(pattern: MsPattern | string): string {
    return fromSender(super.normalizePattern(pattern), this.sender);
  }
}

/** The Redis bus client of one sender: a node's id, `directory`, or `operator` (reads only). */
export function busClient(sender: string, settings: RedisTransportSettings): ClientProxy {
  // ClientRedis narrows its status type; the typed clients take the ClientProxy it is.
  return new SenderBoundRedisClient(sender, redisTransport(settings).options) as unknown as ClientProxy;
}

/**
 * A client that sends each message as the node its payload names (`claimedSender`), for the tests,
 * benches and operator tools that speak for many nodes at once. Redis lets it do so only where its user
 * may write every sender's channels: no ACL (a lab), the admin user, or the trusted `seeder` role. A
 * per-node user cannot (the security suite shows Redis refusing it).
 */
export class ClaimingRedisClient extends ClientRedis {
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
  return new ClaimingRedisClient(redisTransport(settings).options ?? {}) as unknown as ClientProxy;
}
