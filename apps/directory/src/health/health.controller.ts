import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { SkipRateLimits } from '../auth/rate-limits';
import { RedisHealthIndicator } from './redis-health';
import { DatabaseWritesHealthIndicator } from './database-writes-health';

/** An HTTP 503 whose body is terminus's result, with the failing checks named. */
export class NotReady extends ServiceUnavailableException {}

@ApiTags('operations')
@SkipRateLimits()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly writes: DatabaseWritesHealthIndicator,
  ) {}

  /**
   * Liveness: the process and its event loop answer. It does not check the database or Redis, so an
   * outage of either makes replicas unready (taken out of the Service), not restarted in a loop.
   */
  @Get('healthz')
  @ApiOperation({ summary: 'Liveness' })
  async live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /**
   * Readiness: the database answers a ping, its last heartbeat or registration write succeeded
   * (`database-writes`, which also says whether node expiry is suspended), and Redis answers PING.
   * 503 with the failing checks otherwise.
   */
  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: database and Redis' })
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.db.pingCheck('database', { timeout: 1500 }),
        () => this.writes.check('database-writes'),
        () => this.redis.pingCheck('redis', 1500),
      ]);
    } catch (err) {
      if (err instanceof ServiceUnavailableException) throw new NotReady(err.getResponse());
      throw err;
    }
  }
}
