import { Injectable, Optional } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DataSource } from 'typeorm';
import type { WorkSharingStats } from '@astral/transport';
import { DirectoryConfig, expiryAfterMs } from '../directory.config';
import { deriveStreamStats } from '../streams/carrier-state';
import { loadCarrierStates } from '../streams/carrier-states';
import { StreamEntity } from '../streams/stream.entity';

/** Live streams with series at most (the most recently started); nodes with series at most (most committed first). */
export const MAX_STREAM_SERIES = 1000;
export const MAX_NODE_SERIES = 1000;

/**
 * The directory's Prometheus metrics, in a registry of its own (several directories may run in one
 * test process). Gauges are read from the database at scrape time, so every replica reports the same
 * network-wide values. Counters count this replica's work: `registrations` only the requests this
 * replica won (sum them over replicas), `heartbeats` the heartbeats this replica applied (each
 * heartbeat reaches one replica: sum them too).
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
    help: 'Node heartbeats applied by this replica (each heartbeat is handled by one replica).',
    registers: [this.registry],
  });

  /** Placements this replica answered, by result: placed, source (only the source had room), or why not. */
  readonly placements = new Counter({
    name: 'astral_directory_placements_total',
    help: 'Viewer placements answered by this replica, by result (placed, source, no-room, no-carrier, all-excluded, not-live).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** Batched writes (nodes/batch): rounds written and the messages in them, by kind. */
  private readonly writeRounds = new Counter({
    name: 'astral_directory_write_rounds_total',
    help: 'Batched database writes of this replica (one statement and one commit each on PostgreSQL), by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  private readonly writeItems = new Counter({
    name: 'astral_directory_write_items_total',
    help: 'Registrations and heartbeats written by the batched writes of this replica, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  writeRound(kind: 'registration' | 'heartbeat', items: number): void {
    this.writeRounds.inc({ kind });
    this.writeItems.inc({ kind }, items);
  }

  private readonly writeRetries = new Counter({
    name: 'astral_directory_write_retries_total',
    help: 'Batched PostgreSQL writes of this replica run again after a deadlock or serialization failure, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  writeRetried(kind: 'registration' | 'heartbeat'): void {
    this.writeRetries.inc({ kind });
  }

  readonly ledgerPruned = new Counter({
    name: 'astral_directory_request_ledger_pruned_total',
    help: 'Request keys this replica pruned from the idempotency ledger.',
    registers: [this.registry],
  });

  /**
   * This replica's share of the bus work (WorkSharingRedisServer): messages handled by how they reached
   * it (queued: read from the shared stream; claimed: taken over from a replica that held them too long;
   * broadcast: every replica handles them). Sum over replicas; each replica's share is its queued+claimed.
   */
  observeWorkSharing(stats: () => WorkSharingStats): void {
    new Counter({
      name: 'astral_directory_bus_messages_total',
      help: 'Bus messages this replica handled, by how they reached it (queued, claimed, broadcast).',
      labelNames: ['how'] as const,
      registers: [this.registry],
      collect() {
        const s = stats();
        this.reset();
        this.inc({ how: 'queued' }, s.queued);
        this.inc({ how: 'claimed' }, s.claimed);
        this.inc({ how: 'broadcast' }, s.broadcast);
      },
    });
  }

  constructor(dataSource: DataSource, @Optional() config?: DirectoryConfig) {
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
      'astral_directory_request_ledger_rows',
      'Request keys remembered for idempotency (processed_requests); pruned after REQUEST_KEY_TTL_MS.',
      'SELECT COUNT(*) AS n FROM processed_requests',
    );
    gauge(
      'astral_directory_live_streams',
      'Streams now live.',
      "SELECT COUNT(*) AS n FROM streams WHERE status = 'live'",
    );
    this.perStream(dataSource, config ? expiryAfterMs(config) : 7000);
    this.perNode(dataSource);
    collectDefaultMetrics({ register: this.registry, prefix: 'astral_directory_' });
  }

  /**
   * Per live stream, from what its carriers report (deriveStreamStats): viewers and the carriers' free upload
   * (+Inf when one is unlimited). Series are rebuilt at every scrape, so ended streams drop out.
   */
  private perStream(dataSource: DataSource, expiryMs: number): void {
    const stats = async () => {
      const streams = await dataSource.getRepository(StreamEntity).find({
        where: { status: 'live' },
        order: { startedAt: 'DESC' },
        take: MAX_STREAM_SERIES,
      });
      const carriers = await loadCarrierStates(
        dataSource,
        streams.map((s) => s.streamId),
      );
      const now = Date.now();
      return streams.map((s) => ({
        streamId: s.streamId,
        ...deriveStreamStats(s, carriers.get(s.streamId) ?? [], now, expiryMs),
      }));
    };
    new Gauge({
      name: 'astral_directory_stream_viewers',
      help: 'Viewers of a live stream over all its carriers (from their heartbeats).',
      labelNames: ['stream_id'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const s of await stats()) this.set({ stream_id: s.streamId }, s.viewers);
      },
    });
    new Gauge({
      name: 'astral_directory_stream_free_capacity_bps',
      help: "Upload a live stream's carriers have free (bits per second); +Inf when one of them is unlimited.",
      labelNames: ['stream_id'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const s of await stats()) this.set({ stream_id: s.streamId }, s.freeCapacityBps ?? Infinity);
      },
    });
  }

  /** Per node that reported them: upload now and upload promised (bits per second), at most MAX_NODE_SERIES nodes. */
  private perNode(dataSource: DataSource): void {
    const gauge = (name: string, help: string, column: 'upload_bps' | 'committed_bps'): void => {
      new Gauge({
        name,
        help,
        labelNames: ['node_id'] as const,
        registers: [this.registry],
        async collect() {
          this.reset();
          const rows = await dataSource.query<{ node_id: string; v: string | number }[]>(
            `SELECT node_id, ${column} AS v FROM nodes WHERE ${column} IS NOT NULL ` +
              `ORDER BY COALESCE(committed_bps, 0) DESC, node_id LIMIT ${MAX_NODE_SERIES}`,
          );
          for (const r of rows) this.set({ node_id: r.node_id }, Number(r.v));
        },
      });
    };
    gauge('astral_directory_node_upload_bps', 'What a node uploads now (its last heartbeat).', 'upload_bps');
    gauge(
      'astral_directory_node_committed_bps',
      'Upload a node has promised to forwards and players (its last heartbeat).',
      'committed_bps',
    );
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
