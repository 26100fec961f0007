import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DataSource } from 'typeorm';

/**
 * The directory's Prometheus metrics, in a registry of its own (several directories may run in one
 * test process). Gauges are read from the database at scrape time, so every replica reports the same
 * network-wide values. Counters count this replica's work: `registrations` only the requests this
 * replica won (sum them over replicas), `heartbeats` every heartbeat this replica applied (every
 * replica sees every heartbeat: take max, not sum).
 */
@Injectable()
export class DirectoryMetrics {
  readonly registry = new Registry();

  readonly registrations = new Counter({
    name: 'astral_directory_registrations_total',
    help: 'Node registrations applied and counted by this replica (each request is counted by exactly one replica).',
    registers: [this.registry],
  });

  readonly heartbeats = new Counter({
    name: 'astral_directory_heartbeats_total',
    help: 'Node heartbeats applied by this replica (every replica receives every heartbeat).',
    registers: [this.registry],
  });

  /** Placements this replica answered, by result: placed, source (only the source had room), or why not. */
  readonly placements = new Counter({
    name: 'astral_directory_placements_total',
    help: 'Viewer placements answered by this replica, by result (placed, source, no-room, no-carrier, all-excluded, not-live).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor(dataSource: DataSource) {
    const count = async (sql: string): Promise<number> => {
      const [row] = await dataSource.query<{ n: string | number }[]>(sql);
      return Number(row?.n ?? 0);
    };
    const gauge = (name: string, help: string, sql: string): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          this.set(await count(sql));
        },
      });
    };
    gauge('astral_directory_nodes', 'Registered nodes.', 'SELECT COUNT(*) AS n FROM nodes');
    gauge(
      'astral_directory_supernodes',
      'Registered supernodes.',
      'SELECT COUNT(*) AS n FROM nodes WHERE supernode = TRUE',
    );
    gauge(
      'astral_directory_live_streams',
      'Streams now live.',
      "SELECT COUNT(*) AS n FROM streams WHERE status = 'live'",
    );
    collectDefaultMetrics({ register: this.registry, prefix: 'astral_directory_' });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
