import { Global, Module } from '@nestjs/common';
import { DirectoryMetrics } from './directory-metrics';
import { MetricsController } from './metrics.controller';

@Global()
@Module({
  providers: [DirectoryMetrics],
  controllers: [MetricsController],
  exports: [DirectoryMetrics],
})
export class MetricsModule {}
