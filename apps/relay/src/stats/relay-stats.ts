import { RelayStats, RelayStreamStats } from '@astral/contracts';
import { RelayCounters, RelayMetricsSnapshot } from '../metrics/relay-metrics';
import { RelayForwards } from '../forward/relay-forwards';
import { UploadBudget } from '../forward/upload-budget';
import { RelayStreams } from '../streams/relay-streams';
import { MediaServer } from '../media-server/media-server';
import { TellAgent } from '../agent-link';

/** The relay's egress at its last stats report: bytes granted by the budget then, and the rate since the one before. */
export interface EgressSample {
  at: number;
  bytes: number;
  bps: number;
}

/** The next egress sample from the bytes granted so far; the previous one stands if no time has passed. */
export function nextEgressSample(previous: EgressSample, now: number, grantedBytes: number): EgressSample {
  const dt = now - previous.at;
  if (dt <= 0) return previous;
  return { at: now, bytes: grantedBytes, bps: Math.round(((grantedBytes - previous.bytes) * 8000) / dt) };
}

export interface RelayStatsDeps {
  nodeId: string;
  streams: RelayStreams;
  forwards: RelayForwards;
  media: Pick<MediaServer, 'playerCount'>;
  budget: UploadBudget;
  counters: RelayCounters;
  tell: TellAgent;
  clock?: () => number;
}

/** The relay's stats (GET /stats, `stats` over Redis, the agent's `stats` event every interval) and its metrics snapshot. */
export class RelayStatsReporter {
  private timer: NodeJS.Timeout | null = null;
  private egress: EgressSample;
  private readonly clock: () => number;

  constructor(private readonly deps: RelayStatsDeps) {
    this.clock = deps.clock ?? Date.now;
    this.egress = { at: this.clock(), bytes: 0, bps: 0 };
  }

  /** Reports the stats to the agent every intervalMs. */
  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => this.report(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  stats(now = this.clock()): RelayStats {
    const { streams, forwards, media, budget, nodeId } = this.deps;
    const out: RelayStreamStats[] = [];
    for (const [streamId, entry] of streams.all()) {
      const m = entry.hub.meter.measure(now);
      out.push({
        streamId,
        origin: entry.hub.origin,
        upstreamNodeId: entry.hub.upstreamNodeId,
        bitrateBps: m.bitrateBps,
        peakBitrateBps: m.peakBitrateBps,
        fps: m.fps,
        keyframeIntervalMs: m.keyframeIntervalMs,
        viewers: media.playerCount(streamId, entry.tap ? 1 : 0),
        forwards: forwards.forwardsOf(streamId).map((conn) => conn.stats()),
        tagsIn: entry.hub.tagsIn,
        lastTagAt: entry.hub.lastTagAt,
      });
    }
    return { nodeId, uploadLimitBps: budget.limitBps, egressBps: this.egress.bps, streams: out };
  }

  metricsSnapshot(): RelayMetricsSnapshot {
    const { streams, forwards, media, budget, counters } = this.deps;
    counters.droppedTags = forwards.droppedTags;
    counters.egressBytes = budget.grantedBytes;
    const now = this.clock();
    return {
      counters,
      forwards: forwards.count,
      uploadLimitBps: budget.limitBps,
      streams: streams.all().map(([streamId, entry]) => {
        const m = entry.hub.meter.measure(now);
        return {
          streamId,
          origin: entry.hub.origin,
          bitrateBps: m.bitrateBps,
          peakBitrateBps: m.peakBitrateBps,
          fps: m.fps,
          viewers: media.playerCount(streamId, entry.tap ? 1 : 0),
          forwards: forwards.countOf(streamId),
        };
      }),
    };
  }

  /** Samples the egress and sends the stats to the agent. */
  report(): void {
    const now = this.clock();
    this.egress = nextEgressSample(this.egress, now, this.deps.budget.grantedBytes);
    const stats = this.stats(now);
    this.deps.tell('stats', (n) => n.stats({ nodeId: this.deps.nodeId, stats }));
  }
}
