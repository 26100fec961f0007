import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { Subscription } from 'rxjs';
import { Logger, NodeConfig } from '@astral/config';
import { AGENT_CLIENT, AGENT_CONFIG, AGENT_LOGGER } from '../agent.tokens';

/**
 * Whether silence from peers means anything. While Redis is away, and for three heartbeat intervals
 * after it is back (peers reconnect at their own pace), missed heartbeats are Redis's fault, not the
 * peers': tickets and memberships are not expired then, and video keeps flowing on the data plane.
 */
@Injectable()
export class RedisHealth implements OnApplicationShutdown {
  private down = false;
  private upSince = 0;
  private readonly sub: Subscription;

  constructor(
    @Inject(AGENT_CLIENT) client: ClientProxy,
    @Inject(AGENT_CONFIG) private readonly config: NodeConfig,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
  ) {
    this.sub = client.status.subscribe((status) => {
      const wasDown = this.down;
      this.down = String(status) !== 'connected';
      if (!this.down) this.upSince = Date.now();
      if (this.down && !wasDown)
        this.log.warn('Redis connection lost; peer expiry is suspended until it is back');
      if (!this.down && wasDown) this.log.info('Redis connection back');
    });
  }

  /** May a peer's missed heartbeats be held against it right now? */
  peersAccountable(now = Date.now()): boolean {
    return !this.down && now - this.upSince > 3 * this.config.peerHeartbeatMs;
  }

  onApplicationShutdown(): void {
    this.sub.unsubscribe();
  }
}
