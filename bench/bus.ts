/**
 * `npm run bench -- bus --nodes 1000 --cluster 0|3 [--duration 20] [--json FILE]`: the Redis bus under
 * the connections and messages of N nodes (docs/BENCHMARKS.md, "The bus"). Every node is an agent and a
 * relay side in this one process; `--cluster 0` carries them over today's transport (the real busClient
 * and NodeAddressedRedisServer, on one redis-server), `--cluster 3` over the inbox pattern a sharded
 * transport would use (SPUBLISH/SSUBSCRIBE on a 3-shard Redis Cluster). Measured: connections per node,
 * messages per node and second, Redis CPU-seconds per 10,000 messages, publish-to-delivery latency;
 * projected from them: shards for 100,000 and 1,000,000 nodes.
 *
 * `--cluster 3` runs today's transport on the cluster (`--transport nest`, the default: a `?cluster=1` URL,
 * docs/CONTRACTS.md "Redis Cluster") or the inbox pattern (`--transport inbox`, a design for messages
 * between nodes that is not built: the channel would no longer prove the sender).
 *
 * Flags: --warmup S (5), --heartbeat-ms (5000, the directory heartbeat), --relay-stats-ms (1000, the
 * relay's stats report to its agent; 0 = off), --msgs-per-node (4.5, the simulation's figure, from
 * which the request rate is derived).
 */
import { writeFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import Table from 'cli-table3';
import { waitFor } from '@astral/testing';
import { drive, DriveRates } from './bus/drive';
import { topology } from './bus/fleet';
import { DIRECTORY_INBOXES } from './bus/inbox-fleet';
import { Recorder, openFilesLimit, round, sampleRedis, shardsFor } from './bus/measure';
import { ProbeHandle, startProbe } from './bus/probe-handle';
import { BusSetup, BusTransport, startBus } from './bus/setup';
import { parseFlags, percentile } from './lib/report';

export interface BusBenchResult {
  nodes: number;
  cluster: number;
  transport: 'nest-redis' | 'nest-redis-cluster' | 'sharded-inbox';
  durationS: number;
  connectionsPerNode: number;
  /** PUBLISH + SPUBLISH calls in the window (Redis's commandstats, the probe's taken out) ÷ nodes ÷ s. */
  messagesPerNodePerS: number;
  targetMessagesPerNodePerS: number;
  /** Delivered to the fleet's subscribers, ÷ nodes ÷ s: should match the published. */
  deliveredPerNodePerS: number;
  /** Publish-to-delivery over every delivered message, timed inside the bench process. */
  deliveryP50Ms: number;
  deliveryP99Ms: number;
  deliveryP50MsByKind: Record<string, number>;
  /** The same through the bus from a process of its own (bench/bus/probe.ts). */
  probeP50Ms: number;
  probeP99Ms: number;
  redisCpuSPer10kMessages: number;
  redisCpuSPerS: number;
  /** SUBSCRIBE + UNSUBSCRIBE calls per request (Nest's client subscribes to each reply channel). */
  subscribeCallsPerRequest: number;
  benchCpuPercent: number;
  benchLoopDelayP99Ms: number;
  benchLoopDelayMaxMs: number;
  shardsFor100k: number;
  shardsFor1M: number;
  messages: Record<string, number>;
  requestErrors: number;
  psubscribePatterns: number;
  shardChannels: number;
  notes: string[];
}

/** Sockets the bench process opens per node: 8 over today's transport; on the cluster 2 × (1 + shards) at most. */
const FDS_PER_NODE = { nest: 8, inbox: (shards: number) => 2 * (1 + shards) };

export async function busBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const nodes = Number(flags.get('nodes') ?? 1000);
  const shards = Number(flags.get('cluster') ?? 0);
  const durationS = Number(flags.get('duration') ?? 20);
  const warmupS = Number(flags.get('warmup') ?? 5);
  const heartbeatMs = Number(flags.get('heartbeat-ms') ?? 5000);
  const relayStatsMs = Number(flags.get('relay-stats-ms') ?? 1000);
  const simMsgsPerNode = Number(flags.get('msgs-per-node') ?? 4.5);
  const transport = (flags.get('transport') ?? 'nest') as BusTransport;
  if (transport !== 'nest' && transport !== 'inbox') throw new Error('--transport is nest or inbox');
  const inbox = shards > 0 && transport === 'inbox';
  if (!(nodes >= 2) || !(durationS > 0))
    throw new Error('--nodes must be at least 2 and --duration positive');
  if (shards !== 0 && shards < 3) throw new Error('--cluster is 0 (one redis-server) or at least 3 shards');
  const rates: DriveRates = {
    // A request and its reply count one each, as in the simulation: requests = (total − heartbeats) ÷ 2.
    requestsPerNodePerS: Math.max(0, (simMsgsPerNode - 1000 / heartbeatMs) / 2),
    heartbeatsPerNodePerS: 1000 / heartbeatMs,
    relayStatsPerNodePerS: relayStatsMs > 0 ? 1000 / relayStatsMs : 0,
  };
  const fdsNeeded = nodes * (inbox ? FDS_PER_NODE.inbox(shards) : FDS_PER_NODE.nest) + 256;
  if (openFilesLimit() < fdsNeeded) {
    throw new Error(
      `${nodes} nodes need about ${fdsNeeded} open files in this process; its limit is ${openFilesLimit()} ` +
        '(ulimit -n): raise it as far as the hard limit allows, or run fewer nodes',
    );
  }

  Logger.overrideLogger(['error']);
  const progress = (msg: string): void => void process.stderr.write(`bench bus: ${msg}\n`);
  const rec = new Recorder();
  let bus: BusSetup | undefined;
  let probe: ProbeHandle | undefined;
  try {
    bus = await startBus(shards, topology(nodes), rec, transport);
    const { admin, fleet } = bus;
    probe = await startProbe(bus.probeTarget);
    progress(`${shards ? `${shards}-shard cluster` : 'one redis-server'} up; connecting ${nodes} nodes`);
    const base = await sampleRedis(admin);
    const t0 = performance.now();
    await fleet.connect(progress);
    const expected = bus.subscriptionsExpected(nodes);
    await waitFor(
      async () => {
        const s = await sampleRedis(admin);
        return s.patterns >= expected.patterns && s.shardChannels >= expected.shardChannels;
      },
      { timeoutMs: 60_000, what: 'every node subscribed' },
    );
    const connectS = (performance.now() - t0) / 1000;
    progress(`connected in ${connectS.toFixed(1)} s; ${warmupS} s warm-up, ${durationS} s measured`);

    const run = await drive(fleet, rec, rates, nodes, {
      warmupS,
      durationS,
      sample: () => sampleRedis(admin),
    });
    const probeSamples = (await probe.stop())
      .filter(([at]) => at >= run.windowStartMs && at <= run.windowEndMs)
      .map(([, ms]) => ms)
      .sort((a, b) => a - b);
    probe = undefined;
    const { before, after } = run;
    const delta = (cmd: string): number => (after.calls[cmd] ?? 0) - (before.calls[cmd] ?? 0);
    const published = delta('publish') + delta('spublish') - probeSamples.length;
    const latency = rec.summary();
    const connectionsPerNode = (after.connectedClients - base.connectedClients) / nodes;
    const messagesPerNodePerS = published / nodes / run.windowS;
    const cpuS = after.cpuS - before.cpuS;
    const cpuPer10k = published > 0 ? (cpuS / published) * 10_000 : NaN;
    const result: BusBenchResult = {
      nodes,
      cluster: shards,
      transport: inbox ? 'sharded-inbox' : shards ? 'nest-redis-cluster' : 'nest-redis',
      durationS: round(run.windowS, 1),
      connectionsPerNode: round(connectionsPerNode, 2),
      messagesPerNodePerS: round(messagesPerNodePerS, 2),
      targetMessagesPerNodePerS: round(
        rates.requestsPerNodePerS * 2 + rates.heartbeatsPerNodePerS + rates.relayStatsPerNodePerS,
        2,
      ),
      deliveredPerNodePerS: round(rec.total() / nodes / run.windowS, 2),
      deliveryP50Ms: round(latency.p50, 3),
      deliveryP99Ms: round(latency.p99, 3),
      deliveryP50MsByKind: latency.p50ByKind,
      probeP50Ms: round(percentile(probeSamples, 50), 3),
      probeP99Ms: round(percentile(probeSamples, 99), 3),
      redisCpuSPer10kMessages: round(cpuPer10k, 4),
      redisCpuSPerS: round(cpuS / run.windowS, 3),
      subscribeCallsPerRequest: round(
        (delta('subscribe') + delta('unsubscribe')) / Math.max(1, rec.counts.request),
        2,
      ),
      benchCpuPercent: round(run.benchCpuPercent, 0),
      benchLoopDelayP99Ms: round(run.benchLoopDelayP99Ms, 1),
      benchLoopDelayMaxMs: round(run.benchLoopDelayMaxMs, 1),
      shardsFor100k: shardsFor(100_000, connectionsPerNode, messagesPerNodePerS, cpuPer10k),
      shardsFor1M: shardsFor(1_000_000, connectionsPerNode, messagesPerNodePerS, cpuPer10k),
      messages: { ...rec.counts },
      requestErrors: rec.errors,
      psubscribePatterns: after.patterns,
      shardChannels: after.shardChannels,
      notes: notesOf(shards, inbox, nodes, fleet.notes, after.patterns, run.benchCpuPercent),
    };
    if (rec.firstError) progress(`first request error: ${rec.firstError}`);
    printResult(result, flags.get('json'));
  } finally {
    await probe?.stop().catch(() => undefined);
    await bus?.stop();
  }
}

function notesOf(
  shards: number,
  inbox: boolean,
  nodes: number,
  fleet: string[],
  patterns: number,
  benchCpu: number,
): string[] {
  const notes = [...fleet];
  if (!shards) {
    notes.push(
      "in a Redis Cluster a PUBLISH is broadcast to every node, so this load cannot be spread over shards: shardsFor* is the capacity it would need, not a layout that works with today's transport",
      `every PUBLISH is matched against every PSUBSCRIBE pattern (${patterns} here, 2 per node): the CPU per message grows with the number of nodes, so the projection from ${nodes} nodes is a lower bound`,
      "a reply is delivered twice: to the requester's SUBSCRIBE and to the target server's own `node.<id>.*` pattern, which drops it",
    );
  } else if (!inbox) {
    notes.push(
      `on ${shards} shards: a PUBLISH (requests to other nodes, heartbeats to the directory) is forwarded to every shard and matched against the patterns there (${patterns} in all, 2 per node, spread over the shards by where each process subscribed); SPUBLISH (a node's messages to itself, replies) stays on its slot's shard`,
    );
  } else {
    notes.push(
      `heartbeats go to ${DIRECTORY_INBOXES} directory inboxes (slots), by node; a process opens a publishing connection to each shard it sends to, so connections per node grow with the shards a node talks to (at most 2 × (1 + shards))`,
    );
  }
  notes.push(
    `every simulated process runs in the one bench process (${benchCpu.toFixed(0)} % of a core) beside Redis on the same cores: deliveryP50Ms/P99Ms include its event loop's queueing; probeP50Ms/P99Ms are timed by a process of their own`,
  );
  return notes;
}

/** The figures as a table, the notes under it, then the whole result as one line of JSON (and to `jsonFile`). */
function printResult(result: BusBenchResult, jsonFile: string | undefined): void {
  const table = new Table({ head: ['bus', 'value'] });
  for (const [k, v] of Object.entries(result) as [string, number | string | Record<string, number>][]) {
    if (k === 'notes') continue;
    if (typeof v === 'object')
      for (const [kk, vv] of Object.entries(v)) table.push([`${k}.${kk}`, String(vv)]);
    else table.push([k, String(v)]);
  }
  console.log(table.toString());
  for (const note of result.notes) console.log(`- ${note}`);
  console.log(JSON.stringify(result));
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
}
