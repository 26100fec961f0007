import type { Logger, NodeConfig } from '@astral/config';
import type { FlvTag, HlsSegmenterApi, HlsSegmenterSettings, HlsSegmenterStats } from '@astral/media';
import { LogThrottle } from '@astral/net';
import type { StreamHub } from '../hub/stream-hub';
import type { StreamConsumer } from '../hub/stream-consumer';
import { HlsAdmit, HlsSessions } from './hls-sessions';
import { HlsWaiters } from './hls-waiters';
import { HlsRecorder } from './hls-recorder';

/** The relay's HLS settings (NodeConfig `hls*`, docs/RELAY.md "HLS"). */
export interface HlsSettings extends HlsSegmenterSettings {
  enabled: boolean;
  /** A stream without HLS requests this long stops being segmented. */
  idleMs: number;
  /** Record every segmented stream under this directory; null: no recording. */
  recordDir: string | null;
}

/** The settings from the node's config; a part target over the segment target fails the start, naming both. */
export function hlsSettings(config: NodeConfig): HlsSettings {
  if (config.hlsPartMs > config.hlsSegmentMs)
    throw new Error(
      `ASTRAL_HLS_PART_MS (${config.hlsPartMs}) must not exceed ASTRAL_HLS_SEGMENT_MS (${config.hlsSegmentMs}): a part is a piece of a segment`,
    );
  return {
    enabled: config.hls === 'on',
    partTargetMs: config.hlsPartMs,
    segmentTargetMs: config.hlsSegmentMs,
    windowSegments: config.hlsWindowSegments,
    windowBytes: config.hlsWindowBytes,
    idleMs: config.hlsIdleMs,
    recordDir: config.hlsRecordDir ?? null,
  };
}

/** One stream's HLS on this relay: its segmenter (attached to the hub), its blocked requests, its recording. */
export interface HlsStreamState {
  readonly streamId: string;
  readonly segmenter: HlsSegmenterApi;
  readonly waiters: HlsWaiters;
  /** Set by every HLS request; the sweep ends the state after `idleMs` without one. */
  lastRequestAt: number;
  /** Segmenting ended (idle, the hub closed, a segmenter failure): the state is gone from RelayHls. */
  ended: boolean;
}

interface StateEntry extends HlsStreamState {
  consumer: StreamConsumer;
  hub: StreamHub;
  recorder: HlsRecorder | null;
}

export interface RelayHlsDeps {
  settings: HlsSettings;
  /** The stream's hub on this relay, of either origin (local publish or upstream). */
  hubOf: (streamId: string) => StreamHub | undefined;
  /** Every stream with a hub here: with recording on, each is segmented whether or not anyone asks. */
  streamIds: () => string[];
  /** The player budget's admission of a new HLS session (PlayerBudget.admit). */
  admit: HlsAdmit;
  createSegmenter: (settings: HlsSegmenterSettings) => HlsSegmenterApi;
  log: Logger;
  clock?: () => number;
}

/** Counters of the relay's HLS, read by the stats and /metrics. */
export interface HlsCounters {
  /** Bytes of every HLS response body (playlists, init segments, segments, parts). */
  bytes: number;
  /** Requests that blocked (a blocking reload, a preload hint, a first request before the first part). */
  blockingWaits: number;
  /** Of those, the ones that timed out (503). */
  blockingTimeouts: number;
}

/**
 * The relay's HLS of every stream it carries (docs/RELAY.md "HLS"): one state per stream, made on demand by
 * the stream's first HLS request and attached to its hub as one more consumer (the join sequence first, then
 * every tag). A failover replaces the hub's upstream, not the hub, so the segmenter and its sequence numbers
 * carry on across it. The state ends when the hub closes, or after `idleMs` without requests.
 */
export class RelayHls {
  readonly sessions: HlsSessions;
  readonly counters: HlsCounters = { bytes: 0, blockingWaits: 0, blockingTimeouts: 0 };
  private readonly states = new Map<string, StateEntry>();
  private readonly failures = new LogThrottle(10_000, 200);
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: RelayHlsDeps) {
    this.clock = deps.clock ?? Date.now;
    this.sessions = new HlsSessions(deps.admit, this.clock);
  }

  get settings(): HlsSettings {
    return this.deps.settings;
  }

  /** Does this relay carry the stream (a hub, whatever feeds it)? */
  carries(streamId: string): boolean {
    return this.deps.hubOf(streamId) !== undefined;
  }

  /**
   * The stream's HLS state, made now if the stream has a hub here; null if it has none. Marks a request. A
   * state whose segmenter failed on the join sequence comes back `ended`.
   */
  open(streamId: string): HlsStreamState | null {
    const now = this.clock();
    const existing = this.states.get(streamId);
    if (existing) {
      existing.lastRequestAt = now;
      return existing;
    }
    const hub = this.deps.hubOf(streamId);
    if (!hub) return null;
    const segmenter = this.deps.createSegmenter(this.deps.settings);
    const log = this.deps.log;
    const { recordDir } = this.deps.settings;
    const entry: StateEntry = {
      streamId,
      segmenter,
      waiters: new HlsWaiters(),
      lastRequestAt: now,
      ended: false,
      hub,
      recorder: recordDir ? new HlsRecorder(recordDir, streamId, segmenter, log) : null,
      consumer: {
        deliver: (tag) => this.push(entry, tag),
        close: (reason) => this.end(entry, `the stream ended here: ${reason}`),
      },
    };
    segmenter.onChange = () => {
      entry.waiters.wake();
      entry.recorder?.update();
    };
    this.states.set(streamId, entry);
    log.info({ streamId, epoch: segmenter.epoch, origin: hub.origin }, 'HLS segmenting started');
    const join = hub.attach(entry.consumer);
    // The cached GOP is dated by the hub's latest clock stamp, as the live tags after it will be: a segment
    // dated by the time of this request instead would sit up to a GOP late against the next (hls.js realigns
    // parts by PDT and reloaded the first segment's parts in a loop, a stall at its end).
    if (hub.lastClockTag) this.push(entry, hub.lastClockTag, now);
    for (const tag of join) {
      this.push(entry, tag, now);
      if (entry.ended) break;
    }
    return entry;
  }

  /** The state of a stream being segmented now, without marking a request (stats). */
  peek(streamId: string): HlsStreamState | undefined {
    return this.states.get(streamId);
  }

  stats(streamId: string): HlsSegmenterStats | null {
    return this.states.get(streamId)?.segmenter.stats() ?? null;
  }

  get segmenters(): number {
    return this.states.size;
  }

  /** Bytes held by every segmenter (windows, segments in progress, init segments). */
  retainedBytes(): number {
    let sum = 0;
    for (const s of this.states.values()) sum += s.segmenter.stats().retainedBytes;
    return sum;
  }

  /** Runs the sweep (expired sessions, idle segmenters) every `intervalMs`; started by RelayService. */
  start(intervalMs = Math.min(1000, this.deps.settings.idleMs)): void {
    this.stop();
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  sweep(): void {
    this.sessions.sweep();
    const now = this.clock();
    // A recording is of the whole stream, not of the time someone watched it: recorded streams never idle.
    const recording = this.deps.settings.recordDir !== null;
    if (recording) for (const id of this.deps.streamIds()) if (!this.states.has(id)) this.open(id);
    for (const entry of [...this.states.values()])
      if (!recording && now - entry.lastRequestAt > this.deps.settings.idleMs && entry.waiters.size === 0)
        this.end(entry, `no HLS request for ${this.deps.settings.idleMs} ms`);
  }

  /** Ends every stream's segmenting and session (shutdown). */
  closeAll(reason: string): void {
    this.stop();
    for (const entry of [...this.states.values()]) this.end(entry, reason);
    this.sessions.dropAll();
  }

  private push(entry: StateEntry, tag: FlvTag, now = this.clock()): void {
    if (entry.ended) return;
    try {
      entry.segmenter.push(tag, now);
    } catch (err) {
      // A tag the segmenter cannot take ends this stream's HLS, never the hub (its forwards go on).
      const message = (err as Error).message;
      const suppressed = this.failures.take(entry.streamId);
      if (suppressed !== null)
        this.deps.log.warn(
          { streamId: entry.streamId, epoch: entry.segmenter.epoch, err: message },
          'HLS segmenter failed on a tag; segmenting of the stream stops (the next request starts it again)',
        );
      this.end(entry, `segmenter failed: ${message}`);
    }
  }

  private end(entry: StateEntry, reason: string): void {
    if (entry.ended) return;
    entry.ended = true;
    if (this.states.get(entry.streamId) === entry) this.states.delete(entry.streamId);
    entry.hub.detach(entry.consumer);
    try {
      entry.segmenter.end(); // closes the segment in progress; its onChange wakes the waiters once more
    } catch (err) {
      this.deps.log.warn(
        { streamId: entry.streamId, err: (err as Error).message },
        'HLS segmenter end failed',
      );
    }
    entry.waiters.endAll();
    entry.recorder?.finish();
    entry.segmenter.onChange = null;
    if (!this.deps.hubOf(entry.streamId) || entry.hub !== this.deps.hubOf(entry.streamId))
      this.sessions.dropStream(entry.streamId);
    const stats = entry.segmenter.stats();
    this.deps.log.info(
      { streamId: entry.streamId, epoch: stats.epoch, segments: stats.liveMsn - stats.firstMsn, reason },
      'HLS segmenting stopped',
    );
  }
}
