import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { DirectoryConfig } from '../directory.config';
import { NodesService } from './nodes.service';

/**
 * Sweeps expired nodes every heartbeat interval. Heartbeats cross Redis, so while Redis is away, and for
 * 3 heartbeat intervals plus 1 s after it is back, silence is Redis's fault: nobody is expired then
 * (else a Redis restart would end every live stream).
 */
@Injectable()
export class NodeExpiry implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(NodeExpiry.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly redis: Redis;
  private redisTroubleAt = 0;

  constructor(
    private readonly nodes: NodesService,
    private readonly config: DirectoryConfig,
  ) {
    this.redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => 500 });
    this.redis.on('error', () => undefined);
  }

  /** Can heartbeats have reached us over the whole expiry window? */
  private async redisTrustworthy(): Promise<boolean> {
    const now = Date.now();
    try {
      const pong = await Promise.race([
        this.redis.ping(),
        new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 500).unref()),
      ]);
      if (pong !== 'PONG') this.redisTroubleAt = now;
    } catch {
      this.redisTroubleAt = now;
    }
    return now - this.redisTroubleAt > 3 * this.config.heartbeatIntervalMs + 1000;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.config.heartbeatIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.redis.disconnect();
    // Let a sweep in progress finish before the database closes.
    await this.running;
  }

  private tick(): void {
    if (this.running || !this.timer) return;
    this.running = this.redisTrustworthy()
      .then((ok) => (ok ? this.nodes.expire() : undefined))
      .then(() => undefined)
      .catch((err: unknown) => this.logger.error(err instanceof Error ? err : String(err)))
      .finally(() => (this.running = undefined));
  }
}
