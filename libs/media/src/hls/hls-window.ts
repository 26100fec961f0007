import type { HlsBlockingState, HlsMediaLookup } from './hls-types';
import { initName, parseMediaName, partName, segmentName } from './hls-media-names';

/** A closed part: one CMAF fragment (moof + mdat). */
export interface HlsPart {
  data: Buffer;
  /** Ticks of the track that cuts parts (video, or audio in an audio-only stream). */
  durationTicks: number;
  independent: boolean;
}

/** A media segment: its parts in order (the segment's bytes are these buffers, never a second copy). */
export interface HlsSegment {
  msn: number;
  /** Index k of the init segment (init<k>.mp4) its fragments need. */
  init: number;
  /** EXT-X-DISCONTINUITY before it: a new codec configuration, or the source's timestamps jumped. */
  discontinuity: boolean;
  /** EXT-X-PROGRAM-DATE-TIME: the source's wall clock at its first sample. */
  programDateTimeMs: number;
  timescale: number;
  parts: HlsPart[];
  durationTicks: number;
  bytes: number;
}

export interface HlsWindowLimits {
  windowSegments: number;
  windowBytes: number;
}

/**
 * What the segmenter holds and serves: init segments, the completed segments of the window, the segment in
 * progress. Retention, lookups (`find`) and blocking-reload states live here; cutting lives in the segmenter.
 */
export class HlsWindow {
  readonly inits = new Map<number, Buffer>();
  readonly completed: HlsSegment[] = [];
  live: HlsSegment | null = null;
  ended = false;
  /** EXT-X-DISCONTINUITY-SEQUENCE: discontinuities of the segments dropped from the window. */
  discontinuitySequence = 0;
  discontinuities = 0;
  /** Longest segment and part so far, in seconds (target durations never shrink). */
  longestSegmentS = 0;
  longestPartS = 0;
  private completedBytes = 0;
  private initBytes = 0;
  private nextMsn = 0;

  constructor(private readonly limits: HlsWindowLimits) {}

  get retainedBytes(): number {
    return this.completedBytes + (this.live?.bytes ?? 0) + this.initBytes;
  }

  get firstMsn(): number {
    return this.completed[0]?.msn ?? this.live?.msn ?? this.nextMsn;
  }

  /** The segment in progress (or the next to come once ended). */
  get liveMsn(): number {
    return this.live?.msn ?? this.nextMsn;
  }

  get partCount(): number {
    return this.completed.reduce((n, s) => n + s.parts.length, 0) + (this.live?.parts.length ?? 0);
  }

  addInit(index: number, data: Buffer): void {
    this.inits.set(index, data);
    this.initBytes += data.length;
  }

  startSegment(
    init: number,
    discontinuity: boolean,
    programDateTimeMs: number,
    timescale: number,
  ): HlsSegment {
    if (this.live) throw new Error('HlsWindow.startSegment: the segment in progress was not completed first');
    if (discontinuity) this.discontinuities++;
    // Strictly after the previous segment's: a wall clock stepping back must not repeat a date (hls-parser
    // refuses a playlist with two identical lines, and a player would map two segments to one instant).
    const previous = this.completed[this.completed.length - 1]?.programDateTimeMs;
    if (previous !== undefined && programDateTimeMs <= previous) programDateTimeMs = previous + 1;
    this.live = {
      msn: this.nextMsn++,
      init,
      discontinuity,
      programDateTimeMs,
      timescale,
      parts: [],
      durationTicks: 0,
      bytes: 0,
    };
    return this.live;
  }

  addPart(part: HlsPart): void {
    const live = this.live;
    if (!live) throw new Error('HlsWindow.addPart: no segment in progress');
    live.parts.push(part);
    live.durationTicks += part.durationTicks;
    live.bytes += part.data.length;
    this.longestPartS = Math.max(this.longestPartS, part.durationTicks / live.timescale);
  }

  /** The segment in progress is complete; the window drops its oldest past the limits. */
  completeSegment(): void {
    const live = this.live;
    if (!live) return;
    this.live = null;
    if (live.parts.length === 0) {
      // Nothing was cut into it (the stream ended at once): it never existed.
      this.nextMsn--;
      if (live.discontinuity) this.discontinuities--;
      return;
    }
    this.completed.push(live);
    this.completedBytes += live.bytes;
    this.longestSegmentS = Math.max(this.longestSegmentS, live.durationTicks / live.timescale);
    this.trim();
  }

  end(): void {
    this.completeSegment();
    this.ended = true;
  }

  private trim(): void {
    const { windowSegments, windowBytes } = this.limits;
    while (this.completed.length > windowSegments || this.completedBytes > windowBytes) {
      const dropped = this.completed.shift()!;
      this.completedBytes -= dropped.bytes;
      if (dropped.discontinuity) this.discontinuitySequence++;
    }
    const needed = new Set(this.completed.map((s) => s.init));
    if (this.live) needed.add(this.live.init);
    const newest = Math.max(...this.inits.keys());
    for (const [index, data] of this.inits) {
      if (index !== newest && !needed.has(index)) {
        this.inits.delete(index);
        this.initBytes -= data.length;
      }
    }
  }

  find(name: string): HlsMediaLookup {
    const parsed = parseMediaName(name);
    if (!parsed)
      return { kind: 'missing', reason: `${JSON.stringify(String(name).slice(0, 64))} is no media name` };
    if (parsed.kind === 'init') {
      const data = this.inits.get(parsed.index);
      return data
        ? { kind: 'ready', chunks: [data], bytes: data.length }
        : { kind: 'missing', reason: `${initName(parsed.index)} is not (or no longer) in use` };
    }
    const { msn } = parsed;
    const done = this.completedSegment(msn);
    if (parsed.kind === 'segment') {
      if (done) return { kind: 'ready', chunks: done.parts.map((p) => p.data), bytes: done.bytes };
      if (msn === this.live?.msn) return { kind: 'pending' };
      return { kind: 'missing', reason: this.whereIs(msn, segmentName(msn)) };
    }
    const segment = done ?? (msn === this.live?.msn ? this.live : null);
    const part = segment?.parts[parsed.part];
    if (part) return { kind: 'ready', chunks: [part.data], bytes: part.data.length };
    if (segment && segment === this.live && parsed.part === segment.parts.length) return { kind: 'pending' };
    if (segment) {
      return {
        kind: 'missing',
        reason: `${partName(msn, parsed.part)}: segment ${msn} has ${segment.parts.length} parts so far`,
      };
    }
    if (!this.ended && !this.live && msn === this.nextMsn && parsed.part === 0) return { kind: 'pending' };
    return { kind: 'missing', reason: this.whereIs(msn, partName(msn, parsed.part)) };
  }

  blocking(msn: number, part: number | undefined): HlsBlockingState {
    if (this.ended) return { kind: 'ready' };
    const live = this.liveMsn;
    if (msn > live + 2) {
      return {
        kind: 'too-far',
        reason: `_HLS_msn=${msn} is more than two segments past the live segment ${live}`,
      };
    }
    if (msn < live) {
      const done = this.completedSegment(msn);
      // A part past the last of a completed segment is the next segment's first part.
      if (part === undefined || !done || part < done.parts.length) return { kind: 'ready' };
      return this.blocking(msn + 1, 0);
    }
    if (msn === live && part !== undefined && this.live && part < this.live.parts.length)
      return { kind: 'ready' };
    return { kind: 'pending' };
  }

  private completedSegment(msn: number): HlsSegment | null {
    const first = this.completed[0]?.msn;
    if (first === undefined || msn < first) return null;
    return this.completed[msn - first] ?? null;
  }

  private whereIs(msn: number, what: string): string {
    if (msn < this.firstMsn) return `${what} has left the window (oldest segment ${this.firstMsn})`;
    if (this.ended) return `${what}: the stream ended at segment ${this.nextMsn - 1}`;
    return `${what} is beyond the live segment ${this.liveMsn}`;
  }
}
