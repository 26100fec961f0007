import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import Table from 'cli-table3';
import { NodeHeartbeat, RegisterNodeRequest } from '@astral/contracts';
import { DirectoryClient, claimingBusClient } from '@astral/transport';
import { createScratchDatabase, ScratchDatabase } from '../apps/directory/src/database/pg-admin';
import {
  makeTempDir,
  removeTempDir,
  sleep,
  spawnAstral,
  startRedis,
  waitFor,
  registerNodeRequest,
} from '@astral/testing';
import { connectSql } from '../apps/directory/src/database/pg-admin';
import { BenchReplica, metric, rssOf, shares, startReplicas, summed } from './lib/directory-replicas';

/**
 * The directory under load, as --replicas replicas (real `astral directory` processes sharing one
 * database and one Redis; they share the work, docs/DIRECTORY.md) on SQLite or PostgreSQL, over the
 * real Redis transport:
 *  1. register --nodes nodes, --concurrency requests in flight, each timed from request to reply;
 *  2. heartbeats from every node at --heartbeat-ms (10,000 nodes every 5 s = 2,000/s) for
 *     --duration s, while a probe times requests (ListSupernodes) to see the service stays responsive;
 *     "sustained" means the directory applied every heartbeat within a second of the phase's end and
 *     expired no node.
 */
export interface DirectoryBenchResult {
  backend: 'postgres' | 'sqlite';
  nodes: number;
  concurrency: number;
  registrationsPerS: number;
  p50Ms: number;
  p99Ms: number;
  heartbeatTargetPerS: number;
  heartbeatsPerS: number;
  heartbeatsSent: number;
  heartbeatsApplied: number;
  heartbeatDrainMs: number;
  sustained: boolean;
  probeP50Ms: number;
  probeP99Ms: number;
  rssMb: number;
  peakRssMb: number;
  replicas: number;
  /** Each replica's share of the bus messages (queued + claimed), in replica order. */
  replicaShares: number[];
  /** Database statements per registration: batched rounds written / registrations (PostgreSQL: one commit each). */
  statementsPerRegistration: number;
  /** PostgreSQL transactions committed per registration during phase 1 (pg_stat_database; all replicas, all work). */
  commitsPerRegistration: number | null;
  /** Heartbeats per batched write, on average. */
  heartbeatsPerStatement: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string', default: 'postgres' },
      nodes: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '64' },
      'heartbeat-ms': { type: 'string', default: '5000' },
      duration: { type: 'string', default: '20' },
      json: { type: 'string' },
      'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
      // Heartbeats as issue 14's agents send them: upload figures and a report of the stream each node carries.
      reports: { type: 'boolean', default: false },
      replicas: { type: 'string', default: '1' },
    },
  });
  const backend = values.backend === 'sqlite' ? 'sqlite' : values.backend === 'postgres' ? 'postgres' : null;
  if (!backend) throw new Error(`--backend must be postgres or sqlite, not ${values.backend}`);
  const nodes = Number(values.nodes);
  const concurrency = Number(values.concurrency);
  const heartbeatMs = Number(values['heartbeat-ms']);
  const durationS = Number(values.duration);
  const replicaCount = Number(values.replicas);
  if (!(replicaCount >= 1 && replicaCount <= 8)) throw new Error('--replicas must be 1 to 8');
  if (backend === 'sqlite' && replicaCount > 1)
    throw new Error("--replicas above 1 needs --backend postgres (SQLite is one process's file)");

  Logger.overrideLogger(['error']);
  const progress = (msg: string): void => void process.stderr.write(`bench directory: ${msg}\n`);
  const dir = makeTempDir('astral-bench-directory-');
  const redis = await startRedis();
  let scratch: ScratchDatabase | null = null;
  let replicas: BenchReplica[] = [];
  const dirArgs = ['--redis', redis.url, '--log-level', 'warn'];
  dirArgs.push('--heartbeat-ms', String(heartbeatMs), '--data-dir', join(dir, 'data'));
  try {
    if (backend === 'postgres') {
      scratch = await createScratchDatabase('astral_bench', values['pg-url']);
      dirArgs.push('--database-url', scratch.url);
      const migrate = spawnAstral('migrate', ['directory', 'migrate', '--database-url', scratch.url], {
        logFile: join(dir, 'migrate.log'),
      });
      if ((await migrate.exited).code !== 0) throw new Error(`migrate failed: ${migrate.readLog()}`);
    }
    replicas = await startReplicas(replicaCount, dirArgs, dir);
    const sql = scratch ? await connectSql(scratch.url) : null;
    const commits = async (): Promise<number> => {
      if (!sql) return NaN;
      const [row] = await sql.query<{ n: string }[]>(
        'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()',
      );
      return Number(row.n);
    };

    const proxy = claimingBusClient({ url: redis.url });
    await proxy.connect();
    const sut = new DirectoryClient(proxy, 30_000);
    const fleet: RegisterNodeRequest[] = Array.from({ length: nodes }, (_, i) =>
      registerNodeRequest({
        host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        uploadLimitBps: 3_000_000,
      }),
    );

    // Phase 1: registrations.
    const latencies: number[] = [];
    let next = 0;
    const commitsBefore = await commits();
    const regStart = performance.now();
    // With --reports the nodes must still be listed when their streams are set up: keep the registered ones alive.
    let registering = true;
    const keepAlive = (async () => {
      while (values.reports && registering) {
        // Every 1.5 intervals: within the expiry window (3 intervals + 1 s) without doubling the load.
        await sleep(heartbeatMs * 1.5);
        await Promise.all(fleet.slice(0, next).map((n) => sut.heartbeat({ nodeId: n.nodeId, forwards: 1 })));
      }
    })();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < fleet.length) {
          const node = fleet[next++];
          const t0 = performance.now();
          await sut.register(node);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const regSeconds = (performance.now() - regStart) / 1000;
    registering = false;
    await keepAlive;
    // pg_stat_database is updated when a backend reports (at most every 0.5 s by default); give it a second.
    await sleep(1000);
    const commitsDuring = (await commits()) - commitsBefore;
    const regRounds = await summed(replicas, 'astral_directory_write_rounds_total{kind="registration"}');
    progress(`${nodes} registrations in ${regSeconds.toFixed(1)} s`);
    latencies.sort((a, b) => a - b);

    // With --reports: one stream per 100 nodes, carried by its 100 nodes, reported in every heartbeat.
    const carried: string[] = [];
    if (values.reports) {
      const sources = fleet.filter((_, i) => i % 100 === 0);
      const ids: string[] = [];
      for (const src of sources) {
        const s = await sut.createStream({ sourceNodeId: src.nodeId, title: 'bench' });
        await sut.announceStream({ streamId: s.streamId, nodeId: src.nodeId, bitrateBps: 1_000_000 });
        ids.push(s.streamId);
      }
      fleet.forEach((_, i) => (carried[i] = ids[Math.floor(i / 100)]));
      await Promise.all(
        fleet.flatMap((node, i) =>
          i % 100 === 0
            ? []
            : [sut.carrying({ streamId: carried[i], nodeId: node.nodeId, hops: 1, carrying: true })],
        ),
      );
      progress(`${ids.length} streams, every node carrying one`);
    }
    const beatOf = (i: number): NodeHeartbeat => {
      const node = fleet[i];
      if (!values.reports) return { nodeId: node.nodeId, forwards: 1 };
      const source = i % 100 === 0;
      return {
        nodeId: node.nodeId,
        forwards: 1,
        uploadBps: 2_000_000,
        committedBps: 2_000_000,
        players: 1,
        streams: [
          {
            streamId: carried[i],
            hops: source ? 0 : 1,
            ...(!source && { upstreamNodeId: fleet[i - (i % 100)].nodeId }),
            players: 1,
            localPlayers: 0,
            forwards: 1,
            bitrateBps: 1_000_000,
            width: 640,
            height: 360,
          },
        ],
      };
    };

    // Phase 2: heartbeats at the target rate, with a latency probe.
    const appliedBefore = await summed(replicas, 'astral_directory_heartbeats_total');
    const hbRoundsBefore = await summed(replicas, 'astral_directory_write_rounds_total{kind="heartbeat"}');
    const target = (nodes * 1000) / heartbeatMs;
    let sent = 0;
    const probe: number[] = [];
    const hbStart = performance.now();
    const endAt = hbStart + durationS * 1000;
    const probing = (async () => {
      while (performance.now() < endAt) {
        const t0 = performance.now();
        await sut.listSupernodes({ hint: '10.0.0.1', limit: 5 });
        probe.push(performance.now() - t0);
        await sleep(20);
      }
    })();
    let cursor = 0;
    while (performance.now() < endAt) {
      const due = Math.floor(((performance.now() - hbStart) / 1000) * target);
      const batch: Promise<void>[] = [];
      while (sent < due) {
        batch.push(sut.heartbeat(beatOf(cursor++ % fleet.length)));
        sent++;
      }
      await Promise.all(batch);
      await sleep(5);
    }
    const sendSeconds = (performance.now() - hbStart) / 1000;
    progress(`${sent} heartbeats sent in ${sendSeconds.toFixed(1)} s`);
    await probing;
    const phaseEnd = performance.now();
    let applied = 0;
    await waitFor(
      async () => {
        applied = (await summed(replicas, 'astral_directory_heartbeats_total')) - appliedBefore;
        return applied >= sent;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the directory to apply every heartbeat' },
    ).catch(() => undefined);
    const drainMs = performance.now() - phaseEnd;
    const liveNodes = await metric(replicas[0].httpUrl, 'astral_directory_nodes');
    const hbRounds =
      (await summed(replicas, 'astral_directory_write_rounds_total{kind="heartbeat"}')) - hbRoundsBefore;
    probe.sort((a, b) => a - b);
    const mems = replicas.map((r) => rssOf(r.proc.pid!));
    const mem = {
      rssMb: Math.max(...mems.map((m) => m.rssMb)),
      peakRssMb: Math.max(...mems.map((m) => m.peakRssMb)),
    };
    const replicaShares = await shares(replicas);

    const result: DirectoryBenchResult = {
      backend,
      nodes,
      concurrency,
      registrationsPerS: round(nodes / regSeconds, 0),
      p50Ms: round(percentile(latencies, 50), 2),
      p99Ms: round(percentile(latencies, 99), 2),
      heartbeatTargetPerS: round(target, 0),
      heartbeatsPerS: round(applied / sendSeconds, 0),
      heartbeatsSent: sent,
      heartbeatsApplied: applied,
      heartbeatDrainMs: round(drainMs, 0),
      sustained: applied >= sent && drainMs < 1000 && liveNodes === nodes,
      probeP50Ms: round(percentile(probe, 50), 2),
      probeP99Ms: round(percentile(probe, 99), 2),
      ...mem,
      replicas: replicaCount,
      replicaShares,
      statementsPerRegistration: round(regRounds / nodes, 3),
      commitsPerRegistration: sql ? round(commitsDuring / nodes, 3) : null,
      heartbeatsPerStatement: round(applied / Math.max(1, hbRounds), 1),
    };
    await proxy.close();
    await sql?.destroy();
    await Promise.all(replicas.map((r) => r.proc.stop('SIGTERM', 10_000)));

    const table = new Table({ head: ['metric', 'value'] });
    for (const [k, v] of Object.entries(result))
      table.push([k, Array.isArray(v) ? v.join(' / ') : String(v)]);
    process.stdout.write(`${table.toString()}\n${JSON.stringify(result)}\n`);
    if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await Promise.all(replicas.map((r) => r.proc.stop('SIGTERM', 10_000)));
    await redis.stop();
    await scratch?.drop().catch(() => undefined);
    removeTempDir(dir);
  }
}
