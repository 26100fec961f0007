import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type Redis from 'ioredis';
import { openRedis, redisConnection } from '@astral/transport';
import { DirectoryConfig } from '../directory.config';
import { ExpiryDecision, ExpiryGate } from './expiry-gate';
import { NodesService } from './nodes.service';

const PROBE_TIMEOUT_MS = 1000;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves with `work`'s value, or rejects after `ms` (the work itself is not cancelled). */
function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Sweeps expired nodes every heartbeat interval, when the ExpiryGate allows it. Before each round it
 * PINGs Redis (heartbeats cross it) and sends `SELECT 1` to the database (heartbeats are recorded
 * there); NodesService reports failed heartbeat and registration writes. While any of these fails, and
 * for one expiry window after, nobody is expired: else an outage of either would end every live stream.
 */
@Injectable()
export class NodeExpiry implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(NodeExpiry.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly redis: Redis;

  constructor(
    private readonly nodes: NodesService,
    private readonly gate: ExpiryGate,
    private readonly dataSource: DataSource,
    private readonly config: DirectoryConfig,
  ) {
    this.redis = openRedis({
      ...redisConnection(config.redisUrl, config.redisCaFile),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      retryStrategy: () => 500,
    });
    this.redis.on('error', () => undefined);
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

  private async probeRedis(): Promise<void> {
    try {
      const pong: string = await within(this.redis.ping(), PROBE_TIMEOUT_MS / 2, 'PING');
      if (pong !== 'PONG') this.gate.redisTrouble(Date.now(), `unexpected answer to PING: ${pong}`);
    } catch (err) {
      this.gate.redisTrouble(Date.now(), messageOf(err));
    }
  }

  private async probeDatabase(): Promise<void> {
    try {
      await within(this.dataSource.query('SELECT 1'), PROBE_TIMEOUT_MS, 'SELECT 1');
    } catch (err) {
      this.gate.databaseFailed(Date.now(), messageOf(err), 'probe');
    }
  }

  private async round(): Promise<void> {
    await Promise.all([this.probeRedis(), this.probeDatabase()]);
    const decision = this.gate.decide(Date.now());
    this.report(decision);
    if (!decision.sweep) return;
    try {
      await this.nodes.expire();
    } catch (err) {
      this.gate.databaseFailed(Date.now(), messageOf(err), 'sweep');
      this.logger.warn({ msg: 'expiry sweep failed; it is retried next round', err: messageOf(err) });
    }
  }

  /** One line when expiry is suspended, one when it resumes. */
  private report(d: ExpiryDecision): void {
    if (d.change === 'suspended') {
      const fields = {
        reason: d.reason,
        resumesAt: new Date(d.resumesAt ?? 0).toISOString(),
        graceMs: this.gate.graceMs,
      };
      // Start-up is routine; an outage is worth a warning.
      if (d.source === 'start')
        this.logger.log({ msg: `${d.reason}; expiry starts after one expiry window`, ...fields });
      else this.logger.warn({ msg: `${d.reason}; expiry suspended`, ...fields });
    } else if (d.change === 'resumed' && d.source === 'start') {
      this.logger.log({ msg: 'expiry running', graceMs: this.gate.graceMs });
    } else if (d.change === 'resumed') {
      this.logger.log({
        msg: `heartbeats recorded again for ${this.gate.graceMs} ms; expiry resumed`,
        suspendedMs: d.suspendedMs,
      });
    }
  }

  private tick(): void {
    if (this.running || !this.timer) return;
    this.running = this.round()
      .catch((err: unknown) => this.logger.error({ msg: 'expiry round failed', err: messageOf(err) }))
      .finally(() => (this.running = undefined));
  }
}
