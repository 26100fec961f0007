import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** What the relay counts itself (plain numbers on the hot path); the metrics read it on scrape. */
export interface RelayCounters {
  egressBytes: number;
  droppedTags: number;
  upstreamSwitches: number;
  upstreamsLost: number;
  publishesRefused: number;
  forwardsRefused: number;
  cutbacks: number;
  forwardsDisconnectedLagging: number;
  /** Players refused: upload full, or a bad or missing play token. */
  playersRefused: number;
  /** Bytes received by standby pulls (docs/RELAY.md "Standby"): the upload a standby costs its upstream. */
  standbyBytesIn: number;
  /** Primaries lost with a standby that took over; of those, splices that fell back to a keyframe takeover. */
  standbyPromotions: number;
  standbySpliceFallbacks: number;
  /** Standby pulls lost while their primary went on. */
  standbysLost: number;
}

export interface RelayMetricsSnapshot {
  counters: RelayCounters;
  forwards: number;
  uploadLimitBps: number | null;
  streams: {
    streamId: string;
    origin: string;
    bitrateBps: number;
    peakBitrateBps: number;
    fps: number;
    viewers: number;
    forwards: number;
    /** Remote players with a valid play token, and those without. */
    placedPlayers: number;
    unplacedPlayers: number;
    localPlayers: number;
    gopCacheBytes: number;
  }[];
  /** Bit rate held by admitted remote players. */
  playerCommittedBps: number;
  /** The relay's HLS (null: not wired). */
  hls: {
    bytes: number;
    blockingWaits: number;
    blockingTimeouts: number;
    sessions: number;
    segmenters: number;
    retainedBytes: number;
  } | null;
}

/**
 * Prometheus metrics of one relay (GET /metrics on the forward port). Nothing here runs per tag:
 * counters are plain numbers the relay keeps, turned into metrics when scraped.
 */
export class RelayMetrics {
  readonly registry = new Registry();

  constructor(nodeId: string, snapshot: () => RelayMetricsSnapshot) {
    this.registry.setDefaultLabels({ node_id: nodeId });
    collectDefaultMetrics({ register: this.registry, prefix: 'astral_relay_' });
    const registers = [this.registry];
    /** A counter whose total the relay keeps itself: each scrape adds what grew since the last. */
    const counterOf = (name: string, help: string, read: () => number): void => {
      let reported = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const now = read();
          if (now > reported) this.inc(now - reported);
          reported = now;
        },
      });
    };
    const counter = (name: string, help: string, pick: (c: RelayCounters) => number): void =>
      counterOf(name, help, () => pick(snapshot().counters));
    counter(
      'astral_relay_egress_bytes_total',
      'Bytes sent to downstream relays (FLV, after the upload budget)',
      (c) => c.egressBytes,
    );
    counter(
      'astral_relay_dropped_tags_total',
      'Tags dropped for slow downstream relays (cut back to a keyframe)',
      (c) => c.droppedTags,
    );
    counter(
      'astral_relay_cutbacks_total',
      'Forward connections cut back to the next keyframe for lagging',
      (c) => c.cutbacks,
    );
    counter(
      'astral_relay_forwards_disconnected_lagging_total',
      'Forward connections closed because they kept lagging',
      (c) => c.forwardsDisconnectedLagging,
    );
    counter(
      'astral_relay_upstream_switches_total',
      'Times a relayed stream was pointed at another (or the same, again) upstream',
      (c) => c.upstreamSwitches,
    );
    counter(
      'astral_relay_upstreams_lost_total',
      'Upstream connections lost (EOF, error, stall, close tag)',
      (c) => c.upstreamsLost,
    );
    counter(
      'astral_relay_standby_bytes_total',
      'Bytes received by standby pulls (the upload a warm standby costs its upstream)',
      (c) => c.standbyBytesIn,
    );
    counter(
      'astral_relay_standby_promotions_total',
      'Primary upstreams lost with a standby that took over',
      (c) => c.standbyPromotions,
    );
    counter(
      'astral_relay_standby_splice_fallbacks_total',
      'Standby take-overs that could not be aligned and fell back to a keyframe takeover',
      (c) => c.standbySpliceFallbacks,
    );
    counter(
      'astral_relay_standbys_lost_total',
      'Standby pulls lost while their primary went on',
      (c) => c.standbysLost,
    );
    counter(
      'astral_relay_publishes_refused_total',
      'Publish attempts refused (wrong, missing or unknown key)',
      (c) => c.publishesRefused,
    );
    counter(
      'astral_relay_forwards_refused_total',
      'Forward requests refused (no or unknown ticket)',
      (c) => c.forwardsRefused,
    );

    counter(
      'astral_relay_players_refused_total',
      'Players refused (upload full, or a bad or missing play token)',
      (c) => c.playersRefused,
    );
    const hls = (pick: (h: NonNullable<RelayMetricsSnapshot['hls']>) => number) => (): number => {
      const h = snapshot().hls;
      return h ? pick(h) : 0;
    };
    counterOf(
      'astral_relay_hls_bytes_total',
      'Bytes of HLS responses (playlists, init segments, segments, parts)',
      hls((h) => h.bytes),
    );
    counterOf(
      'astral_relay_hls_blocking_waits_total',
      'HLS requests that waited for the next part or segment (blocking reload, preload hint)',
      hls((h) => h.blockingWaits),
    );
    counterOf(
      'astral_relay_hls_blocking_timeouts_total',
      'Waiting HLS requests answered 503 because nothing came within 3 target durations',
      hls((h) => h.blockingTimeouts),
    );
    const hlsGauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    hlsGauge(
      'astral_relay_hls_sessions',
      'HLS player sessions (stream and client address)',
      hls((h) => h.sessions),
    );
    hlsGauge(
      'astral_relay_hls_segmenters',
      'Streams being segmented for HLS',
      hls((h) => h.segmenters),
    );
    hlsGauge(
      'astral_relay_hls_retained_bytes',
      'Bytes held by the HLS segmenters (windows, segments in progress, init segments)',
      hls((h) => h.retainedBytes),
    );
    new Gauge({
      name: 'astral_relay_player_committed_bps',
      help: 'Bit rate held by admitted remote players (bits/s)',
      registers,
      collect() {
        this.set(snapshot().playerCommittedBps);
      },
    });
    new Gauge({
      name: 'astral_relay_forwards',
      help: 'Open forward connections to downstream relays',
      registers,
      collect() {
        this.set(snapshot().forwards);
      },
    });
    new Gauge({
      name: 'astral_relay_upload_limit_bps',
      help: 'Upload limit in bits per second (-1: unlimited)',
      registers,
      collect() {
        this.set(snapshot().uploadLimitBps ?? -1);
      },
    });
    const perStream = (
      name: string,
      help: string,
      pick: (s: RelayMetricsSnapshot['streams'][number]) => number,
    ): void => {
      new Gauge({
        name,
        help,
        labelNames: ['stream_id', 'origin'],
        registers,
        collect() {
          this.reset();
          for (const s of snapshot().streams) this.set({ stream_id: s.streamId, origin: s.origin }, pick(s));
        },
      });
    };
    perStream(
      'astral_relay_stream_gop_cache_bytes',
      'Bytes of the stream held in its GOP cache (shared by every joining consumer)',
      (s) => s.gopCacheBytes,
    );
    perStream(
      'astral_relay_stream_bitrate_bps',
      'Measured stream bit rate, average over the window (bits/s)',
      (s) => s.bitrateBps,
    );
    perStream(
      'astral_relay_stream_peak_bitrate_bps',
      'Measured stream bit rate, highest one-second rate in the window',
      (s) => s.peakBitrateBps,
    );
    perStream('astral_relay_stream_fps', 'Measured video frames per second', (s) => s.fps);
    perStream('astral_relay_stream_viewers', 'Players attached to the local media server', (s) => s.viewers);
    perStream(
      'astral_relay_stream_placed_players',
      'Remote players placed by the directory',
      (s) => s.placedPlayers,
    );
    perStream(
      'astral_relay_stream_unplaced_players',
      'Remote players without a play token',
      (s) => s.unplacedPlayers,
    );
    perStream(
      'astral_relay_stream_local_players',
      'Players on the node itself (no upload)',
      (s) => s.localPlayers,
    );
    perStream('astral_relay_stream_forwards', 'Forward connections serving the stream', (s) => s.forwards);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
