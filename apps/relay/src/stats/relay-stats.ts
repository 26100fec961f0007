import { RelayMemoryStats, RelayStats, RelayStreamStats } from '@astral/contracts';
import { FlvTag, GopCache, VideoSize, videoSizeOf } from '@astral/media';
import { RelayCounters, RelayMetricsSnapshot } from '../metrics/relay-metrics';
import { RelayForwards } from '../forward/relay-forwards';
import { UploadBudget } from '../forward/upload-budget';
import { RelayStreams } from '../streams/relay-streams';
import { MediaServer } from '../media-server/media-server';
import { PlayerBudget } from '../players/player-budget';
import { TellAgent } from '../agent-link';
import type { RelayHls } from '../hls/hls-streams';

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

function gopCacheBytes(gop: GopCache): number {
  return gop.bytes + gop.headers.reduce((n, h) => n + h.data.length, 0);
}

function processMemory(): RelayMemoryStats {
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, arrayBuffersBytes: m.arrayBuffers };
}

export interface RelayStatsDeps {
  nodeId: string;
  streams: RelayStreams;
  forwards: RelayForwards;
  media: Pick<MediaServer, 'playerCount'>;
  budget: UploadBudget;
  players: PlayerBudget;
  counters: RelayCounters;
  tell: TellAgent;
  /** The relay's HLS (absent: no HLS fields). */
  hls?: RelayHls;
  clock?: () => number;
}

/** The relay's stats (GET /stats, `stats` over Redis, the agent's `stats` event every interval) and its metrics snapshot. */
export class RelayStatsReporter {
  private timer: NodeJS.Timeout | null = null;
  private soon = false;
  private egress: EgressSample;
  private playerEgress: EgressSample;
  /** The picture size read from each sequence header once (a header is replaced, never mutated). */
  private readonly sizes = new WeakMap<FlvTag, VideoSize | null>();
  private readonly clock: () => number;

  constructor(private readonly deps: RelayStatsDeps) {
    this.clock = deps.clock ?? Date.now;
    this.egress = { at: this.clock(), bytes: 0, bps: 0 };
    this.playerEgress = { ...this.egress };
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

  /** Reports at once (coalesced): a player was admitted, and the agent's ticket offers must count it. */
  reportSoon(): void {
    if (this.soon || !this.timer) return;
    this.soon = true;
    setImmediate(() => {
      this.soon = false;
      if (this.timer) this.report(false);
    });
  }

  private videoSize(header: FlvTag | null): VideoSize | null {
    if (!header) return null;
    let size = this.sizes.get(header);
    if (size === undefined) {
      size = videoSizeOf(header);
      this.sizes.set(header, size);
    }
    return size;
  }

  stats(now = this.clock()): RelayStats {
    const { streams, forwards, media, budget, nodeId, players, hls } = this.deps;
    const out: RelayStreamStats[] = [];
    for (const [streamId, entry] of streams.all()) {
      const m = entry.hub.meter.measure(now);
      const size = this.videoSize(entry.hub.gop.videoSequenceHeader);
      const forwardStats = forwards.forwardsOf(streamId).map((conn) => conn.stats());
      out.push({
        streamId,
        origin: entry.hub.origin,
        upstreamNodeId: entry.hub.upstreamNodeId,
        bitrateBps: m.bitrateBps,
        peakBitrateBps: m.peakBitrateBps,
        fps: m.fps,
        keyframeIntervalMs: m.keyframeIntervalMs,
        viewers: media.playerCount(streamId, entry.tap ? 1 : 0),
        ...players.counts(streamId),
        width: size?.width ?? null,
        height: size?.height ?? null,
        forwards: forwardStats,
        memory: {
          gopCacheBytes: gopCacheBytes(entry.hub.gop),
          gopCacheTags: entry.hub.gop.gopLength,
          forwardQueuedBytes: forwardStats.reduce((n, f) => n + f.queuedBytes, 0),
        },
        tagsIn: entry.hub.tagsIn,
        lastTagAt: entry.hub.lastTagAt,
        ...(hls && { hlsPlayers: hls.sessions.count(streamId), hls: hls.stats(streamId) }),
        standby: entry.upstream?.standbyState ?? null,
      });
    }
    return {
      nodeId,
      uploadLimitBps: budget.limitBps,
      egressBps: this.egress.bps,
      playerBps: this.playerEgress.bps,
      forwardCommittedBps: players.forwardCommittedBps,
      playerCommittedBps: players.committedBps(),
      playersRefused: players.refused,
      ...(hls && { hlsBytes: hls.counters.bytes }),
      standbyBytesIn: this.deps.counters.standbyBytesIn,
      standbyPromotions: this.deps.counters.standbyPromotions,
      standbySpliceFallbacks: this.deps.counters.standbySpliceFallbacks,
      memory: processMemory(),
      streams: out,
    };
  }

  metricsSnapshot(): RelayMetricsSnapshot {
    const { streams, forwards, media, budget, counters, players, hls } = this.deps;
    counters.droppedTags = forwards.droppedTags;
    counters.egressBytes = budget.grantedBytes;
    counters.playersRefused = players.refused;
    const now = this.clock();
    return {
      counters,
      forwards: forwards.count,
      uploadLimitBps: budget.limitBps,
      playerCommittedBps: players.committedBps(),
      hls: hls
        ? {
            ...hls.counters,
            sessions: hls.sessions.size,
            segmenters: hls.segmenters,
            retainedBytes: hls.retainedBytes(),
          }
        : null,
      streams: streams.all().map(([streamId, entry]) => {
        const m = entry.hub.meter.measure(now);
        const c = players.counts(streamId);
        return {
          streamId,
          origin: entry.hub.origin,
          bitrateBps: m.bitrateBps,
          peakBitrateBps: m.peakBitrateBps,
          fps: m.fps,
          viewers: media.playerCount(streamId, entry.tap ? 1 : 0),
          forwards: forwards.countOf(streamId),
          placedPlayers: c.placedPlayers,
          unplacedPlayers: c.players - c.placedPlayers,
          localPlayers: c.localPlayers,
          gopCacheBytes: gopCacheBytes(entry.hub.gop),
        };
      }),
    };
  }

  /** Samples the egress (on the timer only: a rate over a second) and sends the stats to the agent. */
  report(sample = true): void {
    const now = this.clock();
    if (sample) {
      this.egress = nextEgressSample(this.egress, now, this.deps.budget.grantedBytes);
      this.playerEgress = nextEgressSample(this.playerEgress, now, this.deps.players.playerBytes);
    }
    const stats = this.stats(now);
    this.deps.tell('stats', (n) => n.stats({ nodeId: this.deps.nodeId, stats }));
  }
}
