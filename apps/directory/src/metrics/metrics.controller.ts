import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipRateLimits } from '../auth/rate-limits';
import { DirectoryMetrics } from './directory-metrics';

@ApiExcludeController()
@SkipRateLimits()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: DirectoryMetrics) {}

  /** Prometheus text exposition. */
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.text();
  }
}
