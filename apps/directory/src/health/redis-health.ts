import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { openRedis, redisConnection } from '@astral/transport';
import { DirectoryConfig } from '../directory.config';

/** PING on a connection of its own to the Redis the transport uses. */
@Injectable()
export class RedisHealthIndicator implements OnModuleDestroy {
  private readonly redis: Redis;

  constructor(
    config: DirectoryConfig,
    private readonly indicators: HealthIndicatorService,
  ) {
    this.redis = openRedis({
      ...redisConnection(config.redisUrl, config.redisCaFile),
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      connectTimeout: 1000,
      retryStrategy: () => 500,
    });
    this.redis.on('error', () => undefined);
  }

  async pingCheck(key: string, timeoutMs = 1000): Promise<HealthIndicatorResult> {
    const check = this.indicators.check(key);
    try {
      let timer: NodeJS.Timeout | undefined;
      const answer = await Promise.race([
        this.redis.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no PONG within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
      return answer === 'PONG' ? check.up() : check.down({ message: `unexpected answer ${String(answer)}` });
    } catch (err) {
      return check.down({ message: err instanceof Error ? err.message : String(err) });
    }
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
