import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sleep } from '@astral/testing';
import { Fleet } from './fleet';
import { RedisSample, Recorder } from './measure';

export interface DriveRates {
  /** Requests per node and second, half ticket heartbeats (to its upstream), half membership heartbeats (to its supernode). */
  requestsPerNodePerS: number;
  heartbeatsPerNodePerS: number;
  relayStatsPerNodePerS: number;
}

export interface DriveResult {
  before: RedisSample;
  after: RedisSample;
  windowS: number;
  /** The window's bounds, Date.now(). */
  windowStartMs: number;
  windowEndMs: number;
  /** The bench process's own CPU over the window, % of one core. */
  benchCpuPercent: number;
  /** Its event loop's delay over the window, p99 and max, ms: how late it ran its timers and sockets. */
  benchLoopDelayP99Ms: number;
  benchLoopDelayMaxMs: number;
}

const TICK_MS = 10;
/** After the window, requests still in flight get this long to be answered (their replies are not counted). */
const DRAIN_MS = 3000;

/** A steady stream of one kind of message: the k-th goes from node order[k mod n], so each node sends at rate/n. */
class Stream {
  private sent = 0;
  constructor(
    private readonly perS: number,
    private readonly send: (k: number) => Promise<void>,
  ) {}

  /** Sends what is due `elapsedS` after the start. */
  due(elapsedS: number, inFlight: Set<Promise<void>>, onError: (err: unknown) => void): void {
    const target = Math.floor(elapsedS * this.perS);
    while (this.sent < target) {
      const p = this.send(this.sent++).catch(onError);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
  }
}

/**
 * Sends the fleet's messages at the given rates for a warm-up (not counted) and then the window
 * (counted by the Recorder, Redis sampled at both ends), spread evenly over the nodes: each stream
 * walks the nodes in a fixed shuffled order, so no node sends in bursts.
 */
export async function drive(
  fleet: Fleet,
  rec: Recorder,
  rates: DriveRates,
  nodes: number,
  opts: { warmupS: number; durationS: number; sample: () => Promise<RedisSample> },
): Promise<DriveResult> {
  const order = shuffled(nodes);
  const at = (k: number): number => order[k % nodes];
  const streams = [
    // Alternate the two kinds per node: the k-th request of node order[k mod n] is a ticket heartbeat on even rounds.
    new Stream(rates.requestsPerNodePerS * nodes, (k) =>
      fleet.request(at(k), Math.floor(k / nodes) % 2 === 0 ? 'ticket' : 'membership'),
    ),
    new Stream(rates.heartbeatsPerNodePerS * nodes, (k) => fleet.heartbeat(at(k + (nodes >> 1)))),
    new Stream(rates.relayStatsPerNodePerS * nodes, (k) => fleet.relayStats(at(k + (nodes >> 2)))),
  ];
  const inFlight = new Set<Promise<void>>();
  const onError = (err: unknown): void => rec.failed(err);
  const start = performance.now();
  const warmEnd = start + opts.warmupS * 1000;
  const end = warmEnd + opts.durationS * 1000;
  let before: RedisSample | undefined;
  let cpu0 = process.cpuUsage();
  let windowStart = warmEnd;
  let windowStartMs = Date.now();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  while (performance.now() < end) {
    const now = performance.now();
    if (!before && now >= warmEnd) {
      before = await opts.sample();
      cpu0 = process.cpuUsage();
      windowStart = performance.now();
      windowStartMs = Date.now();
      rec.on = true;
      loop.enable();
    }
    for (const s of streams) s.due((now - start) / 1000, inFlight, onError);
    await sleep(TICK_MS);
  }
  const after = await opts.sample();
  const windowS = (performance.now() - windowStart) / 1000;
  const windowEndMs = Date.now();
  rec.on = false;
  loop.disable();
  const cpu = process.cpuUsage(cpu0);
  const deadline = sleep(DRAIN_MS);
  await Promise.race([Promise.all([...inFlight]), deadline]);
  return {
    before: before ?? after,
    after,
    windowS,
    windowStartMs,
    windowEndMs,
    benchCpuPercent: ((cpu.user + cpu.system) / 1e6 / windowS) * 100,
    benchLoopDelayP99Ms: loop.percentile(99) / 1e6,
    benchLoopDelayMaxMs: loop.max / 1e6,
  };
}

/** 0..n-1 in a fixed pseudo-random order (a seeded Fisher–Yates). */
function shuffled(n: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  let seed = 1;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 48271) % 2147483647;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
