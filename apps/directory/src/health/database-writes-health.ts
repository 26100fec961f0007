import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { ExpiryGate } from '../nodes/expiry-gate';

/**
 * Whether heartbeats and registrations are being recorded. A database can answer a ping and still
 * refuse writes (an SQLite file locked by another process), so the ping alone is not enough. Also
 * says whether node expiry is running or suspended.
 */
@Injectable()
export class DatabaseWritesHealthIndicator {
  constructor(
    private readonly gate: ExpiryGate,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check(key: string, now = Date.now()): HealthIndicatorResult {
    const check = this.indicators.check(key);
    const writes = this.gate.writeState();
    const trouble = this.gate.latestTrouble();
    const expiry =
      trouble && now - trouble.at < this.gate.graceMs ? `suspended: ${trouble.reason}` : 'running';
    if (!writes.failing) return check.up({ expiry });
    return check.down({
      message: `${writes.activity ?? 'write'} not recorded: ${writes.message ?? 'unknown error'}`,
      failingSince: new Date(writes.since ?? now).toISOString(),
      expiry,
    });
  }
}
