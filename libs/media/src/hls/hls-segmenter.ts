import { randomInt } from 'node:crypto';
import { HLS_DEFAULTS, HLS_EPOCH_PATTERN } from '@astral/contracts';
import type { FlvTag } from '../flv/flv-tag';
import { clockTagTime } from '../amf/clock-tag';
import {
  Fmp4Sample,
  Fmp4Track,
  FlvSampleView,
  initSegment,
  sampleFromTag,
  trackFromSequenceHeader,
} from '../mp4';
import type {
  HlsBlockingState,
  HlsMediaLookup,
  HlsPlaylistKind,
  HlsSegmenterApi,
  HlsSegmenterSettings,
  HlsSegmenterStats,
} from './hls-types';
import { HlsWindow } from './hls-window';
import { renderPlaylist, targetDurationS } from './hls-playlist';
import { TimestampUnwrapper, audioTicks, timestampJump } from './hls-timestamps';
import { HlsPartBuilder } from './hls-part-builder';

export interface HlsSegmenterOptions {
  /** The run's epoch (HLS_EPOCH_PATTERN); default: 10 random lowercase letters and digits. */
  epoch?: string;
  /** Random integer in [0, n) for the epoch (tests); default crypto.randomInt. */
  randomInt?: (n: number) => number;
}

/** Audio with no video header for this long is an audio-only stream. */
export const AUDIO_ONLY_AFTER_MS = 1000;
const EPOCH_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

type Kind = 'video' | 'audio';

/** The default settings: HLS_DEFAULTS without the relay's idle timeout. */
export function hlsSegmenterSettings(overrides: Partial<HlsSegmenterSettings> = {}): HlsSegmenterSettings {
  const { partTargetMs, segmentTargetMs, windowSegments, windowBytes } = HLS_DEFAULTS;
  return { partTargetMs, segmentTargetMs, windowSegments, windowBytes, ...overrides };
}

/**
 * FLV tags in, CMAF HLS out (issue 15; docs/RELAY.md "HLS"). Starts at the first video keyframe after a
 * video header (or, with no video header after a second of audio, cuts an audio-only stream by time).
 * Each sample is held back until the next of its track gives its duration; parts close as soon as the
 * first sample of the next part arrives, so the preload hint always names the part already open.
 * A new codec configuration, or a timestamp jump, starts a new segment at the next keyframe after an
 * EXT-X-DISCONTINUITY (a jump also rebases the output so decode times stay monotonic). Pure: no timers,
 * no I/O; the caller passes the wall clock and waits on onChange.
 */
export class HlsSegmenter implements HlsSegmenterApi {
  readonly epoch: string;
  onChange: (() => void) | null = null;
  private readonly window: HlsWindow;
  private readonly parts: HlsPartBuilder;
  private readonly unwrapper = new TimestampUnwrapper();
  private readonly headers: Record<Kind, Fmp4Track | null> = { video: null, audio: null };
  private readonly lastSrcMs: Record<Kind, number | null> = { video: null, audio: null };
  /** The tracks of the current init segment; null before the start. */
  private tracks: Fmp4Track[] | null = null;
  private initIndex = -1;
  /** Output ms = source (unwrapped) ms + offset; changes only at a timestamp discontinuity. */
  private offsetMs = 0;
  private jump: string | null = null;
  private firstWallMs: number | null = null;
  private firstMediaSrcMs: number | null = null;
  private firstAudioSrcMs: number | null = null;
  private stamp: { srcMs: number; wallMs: number } | null = null;
  private stampStale = false;
  private segmentStartTicks: number | null = null;
  private cache: Record<HlsPlaylistKind, string | null> = { ll: null, plain: null };
  private changed = false;

  constructor(
    readonly settings: HlsSegmenterSettings = hlsSegmenterSettings(),
    options: HlsSegmenterOptions = {},
  ) {
    const pick = options.randomInt ?? randomInt;
    this.epoch =
      options.epoch ?? Array.from({ length: 10 }, () => EPOCH_CHARS[pick(EPOCH_CHARS.length)]).join('');
    if (!HLS_EPOCH_PATTERN.test(this.epoch)) {
      throw new Error(`HLS epoch ${JSON.stringify(this.epoch)} must match ${HLS_EPOCH_PATTERN}`);
    }
    if (!(settings.partTargetMs > 0 && settings.segmentTargetMs >= settings.partTargetMs)) {
      throw new Error(
        `HLS part target ${settings.partTargetMs} ms must be > 0 and ≤ the segment target ${settings.segmentTargetMs} ms`,
      );
    }
    this.window = new HlsWindow(settings);
    this.parts = new HlsPartBuilder(
      settings.partTargetMs,
      (part) => {
        this.window.addPart(part);
        this.changed = true;
      },
      (dts) => this.segmentDue(dts),
    );
  }

  get started(): boolean {
    // A completed segment has parts: no need to count them all (this is asked on every request).
    return this.hasSegment || (this.window.live?.parts.length ?? 0) > 0;
  }

  get hasSegment(): boolean {
    return this.window.completed.length > 0;
  }

  push(tag: FlvTag, wallClockMs: number): void {
    if (this.window.ended) return;
    this.firstWallMs ??= wallClockMs;
    const wall = clockTagTime(tag);
    if (wall !== null) {
      this.stamp = { srcMs: this.unwrapper.peek(tag.timestamp), wallMs: wall };
      this.stampStale = false;
      return;
    }
    const sample = sampleFromTag(tag);
    if (!sample) {
      const track = trackFromSequenceHeader(tag);
      if (track) this.onHeader(track);
      return;
    }
    const srcMs = this.unwrapper.advance(sample.dtsMs);
    this.firstMediaSrcMs ??= srcMs;
    const jump = timestampJump(this.lastSrcMs[sample.kind], srcMs);
    this.lastSrcMs[sample.kind] = srcMs;
    if (jump && this.tracks && !this.jump) {
      this.jump = `${sample.kind} ${jump}`;
      this.stampStale = true;
    }
    if (this.tracks) this.onSample(sample, srcMs, wallClockMs);
    else this.tryStart(sample, srcMs, wallClockMs);
    this.notify();
  }

  end(): void {
    if (this.window.ended) return;
    if (this.tracks) this.parts.flush();
    this.window.end();
    this.changed = true;
    this.notify();
  }

  playlist(kind: HlsPlaylistKind): string | null {
    if (!this.started) return null;
    return (this.cache[kind] ??= renderPlaylist(kind, this.view()));
  }

  blocking(msn: number, part: number | undefined): HlsBlockingState {
    return this.window.blocking(msn, part);
  }

  find(name: string): HlsMediaLookup {
    return this.window.find(name);
  }

  stats(): HlsSegmenterStats {
    const w = this.window;
    return {
      epoch: this.epoch,
      firstMsn: w.firstMsn,
      liveMsn: w.liveMsn,
      segments: w.completed.length,
      parts: w.partCount,
      discontinuities: w.discontinuities,
      retainedBytes: w.retainedBytes,
      targetDurationS: targetDurationS(this.view()),
    };
  }

  private view() {
    const { partTargetMs, segmentTargetMs } = this.settings;
    return { epoch: this.epoch, window: this.window, partTargetMs, segmentTargetMs };
  }

  private notify(): void {
    if (!this.changed) return;
    this.changed = false;
    this.cache = { ll: null, plain: null };
    this.onChange?.();
  }

  private onHeader(track: Fmp4Track): void {
    const seen = this.headers[track.kind];
    if (seen && sameConfig(seen, track)) return;
    this.headers[track.kind] = track;
  }

  /** Does the current init differ from the latest headers (a new configuration waiting for its keyframe)? */
  private configChanged(kind?: Kind): boolean {
    if (!this.tracks) return false;
    return (['video', 'audio'] as Kind[]).some((k) => {
      if (kind && k !== kind) return false;
      const header = this.headers[k];
      const active = this.tracks!.find((t) => t.kind === k);
      // A track added later (audio after video, video after audio) counts; a vanished header cannot happen.
      return header !== null && (!active || !sameConfig(active, header));
    });
  }

  private onSample(sample: FlvSampleView, srcMs: number, wallMs: number): void {
    if (!this.tracks) return;
    const cutKind: Kind = this.tracks.some((t) => t.kind === 'video') ? 'video' : 'audio';
    const changed = this.configChanged();
    // A switch (new init, or new timeline) happens at a sync sample of the track that will cut: a video
    // keyframe once there is a video header, else any audio sample.
    const nextCut: Kind = changed && this.headers.video ? 'video' : cutKind;
    const sync = sample.kind === 'video' ? sample.keyframe : nextCut === 'audio';
    if ((this.jump !== null || changed) && sync && sample.kind === nextCut) {
      this.switchSegment(srcMs, wallMs);
    } else if (this.jump !== null || this.configChanged(sample.kind)) {
      return; // the old timeline or configuration is over: wait for the sample that starts the new one
    }
    const track = this.tracks.find((t) => t.kind === sample.kind);
    if (!track) return; // not in this init (audio-only until a video keyframe; a header that came late)
    const outMs = srcMs + this.offsetMs;
    const s: Fmp4Sample = {
      dts:
        track.kind === 'video' ? outMs * 90 : audioTicks(outMs, track.timescale, this.parts.lastDts(track)),
      cts: sample.kind === 'video' ? Math.round(sample.ctsMs * 90) : 0,
      duration: 0,
      keyframe: sample.kind === 'audio' || sample.keyframe,
      data: sample.data,
    };
    const boundary = this.parts.add(track, s);
    if (!boundary) return;
    if (this.segmentStartTicks === null) {
      this.segmentStartTicks = boundary.startTicks;
      return;
    }
    if (boundary.sync && this.segmentDue(boundary.startTicks)) {
      // The part this sample opens is the first of the next segment.
      this.window.completeSegment();
      this.openSegment(srcMs, false);
      this.segmentStartTicks = boundary.startTicks;
    }
  }

  /** A segment ends at the first keyframe at or past the segment target. */
  private segmentDue(dts: number): boolean {
    const dueTicks = (this.settings.segmentTargetMs * this.parts.cutTimescale) / 1000;
    return this.segmentStartTicks !== null && dts - this.segmentStartTicks >= dueTicks;
  }

  private tryStart(sample: FlvSampleView, srcMs: number, wallMs: number): void {
    if (this.headers.video) {
      if (sample.kind === 'video' && sample.keyframe) this.begin(srcMs, wallMs, false);
    } else if (this.headers.audio && sample.kind === 'audio') {
      if (this.firstAudioSrcMs === null || srcMs < this.firstAudioSrcMs) this.firstAudioSrcMs = srcMs;
      if (srcMs - this.firstAudioSrcMs >= AUDIO_ONLY_AFTER_MS) this.begin(srcMs, wallMs, false);
    }
    if (this.tracks) this.onSample(sample, srcMs, wallMs);
  }

  /** The segment in progress ends here; the next starts after EXT-X-DISCONTINUITY. */
  private switchSegment(srcMs: number, wallMs: number): void {
    this.parts.flush();
    this.window.completeSegment();
    if (this.jump !== null) {
      // Rebase: the new timeline continues where the old one ended, so decode times stay monotonic.
      const end = this.parts.cutEndTicks;
      if (end !== null) this.offsetMs = Math.ceil((end * 1000) / this.parts.cutTimescale) - srcMs;
      this.jump = null;
      // The other track jumped too (or will): that is this discontinuity, not another one.
      this.lastSrcMs.video = this.lastSrcMs.audio = null;
      if (this.stampStale) this.stamp = { srcMs, wallMs };
      this.stampStale = false;
    }
    this.begin(srcMs, wallMs, true);
  }

  /** Opens a segment, with a new init segment when the headers changed (or at the start). */
  private begin(srcMs: number, wallMs: number, discontinuity: boolean): void {
    if (!this.tracks || this.configChanged()) {
      const tracks = [this.headers.video, this.headers.audio].filter((t): t is Fmp4Track => t !== null);
      this.tracks = tracks;
      this.window.addInit(++this.initIndex, initSegment(tracks));
    }
    this.parts.reset(this.tracks);
    this.stamp ??= { srcMs: this.firstMediaSrcMs ?? srcMs, wallMs: this.firstWallMs ?? wallMs };
    this.openSegment(srcMs, discontinuity);
  }

  private openSegment(srcMs: number, discontinuity: boolean): void {
    const pdt = this.stamp ? this.stamp.wallMs + (srcMs - this.stamp.srcMs) : srcMs;
    this.window.startSegment(this.initIndex, discontinuity, pdt, this.parts.cutTimescale);
    this.segmentStartTicks = null;
    this.changed = true;
  }
}

function sameConfig(a: Fmp4Track, b: Fmp4Track): boolean {
  return a.codec === b.codec && a.timescale === b.timescale && a.config.equals(b.config);
}
