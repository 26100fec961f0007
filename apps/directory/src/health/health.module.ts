import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { NodesModule } from '../nodes/nodes.module';
import { HealthController } from './health.controller';
import { RedisHealthIndicator } from './redis-health';
import { DatabaseWritesHealthIndicator } from './database-writes-health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), NodesModule],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, DatabaseWritesHealthIndicator],
})
export class HealthModule {}
