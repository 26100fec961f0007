/**
 * What a player saw, tag by tag, for the soak bench (pure): wall-clock gaps between video tags and
 * leaps of their FLV timestamps (forward beyond one frame interval, or backwards).
 */

/** The median positive difference between consecutive timestamps (the frame interval), or NaN. */
export function frameIntervalMs(timestamps: readonly number[]): number {
  const deltas: number[] = [];
  for (let i = 1; i < timestamps.length; i++) {
    const d = timestamps[i] - timestamps[i - 1];
    if (d > 0) deltas.push(d);
  }
  if (deltas.length === 0) return NaN;
  deltas.sort((a, b) => a - b);
  return deltas[Math.floor(deltas.length / 2)];
}

export interface TimelineSummary {
  frames: number;
  sessions: number;
  gapsOver1s: number;
  maxGapMs: number;
  /** Largest forward jump minus the frame interval. */
  maxForwardLeapMs: number;
  /** Largest backward jump (a positive number). */
  maxBackwardLeapMs: number;
  /** The larger of the two. */
  maxTimestampLeapMs: number;
  /** Gaps over the threshold: when (ms since the first frame) and how long. */
  gaps: { atMs: number; gapMs: number }[];
  /** The largest leaps: when and by how much (negative: backwards). */
  leaps: { atMs: number; leapMs: number }[];
}

export class TagTimeline {
  private frames = 0;
  private sessions = 0;
  private gapsOver = 0;
  private maxGap = 0;
  private maxFwd = 0;
  private maxBack = 0;
  private firstArrival: number | null = null;
  private lastArrival: number | null = null;
  private lastTs: number | null = null;
  private readonly gaps: { atMs: number; gapMs: number }[] = [];
  private readonly leaps: { atMs: number; leapMs: number }[] = [];

  /**
   * @param frameMs the stream's frame interval (from frameIntervalMs of the source)
   * @param gapThresholdMs a wall-clock gap above this counts (default 1 s)
   * @param leapThresholdMs leaps above this are listed (default 2 frame intervals)
   */
  constructor(
    readonly frameMs: number,
    readonly gapThresholdMs = 1000,
    readonly leapThresholdMs = 2 * frameMs,
    private readonly keep = 50,
  ) {}

  /** One video tag: when it arrived (ms, monotonic clock) and its FLV timestamp. */
  push(arrivalMs: number, timestampMs: number): void {
    if (this.firstArrival === null) this.firstArrival = arrivalMs;
    if (this.lastTs === null) this.sessions++;
    const at = arrivalMs - this.firstArrival;
    if (this.lastArrival !== null) {
      const gap = arrivalMs - this.lastArrival;
      this.maxGap = Math.max(this.maxGap, gap);
      if (gap > this.gapThresholdMs) {
        this.gapsOver++;
        if (this.gaps.length < this.keep) this.gaps.push({ atMs: at, gapMs: gap });
      }
    }
    if (this.lastTs !== null) {
      const d = timestampMs - this.lastTs;
      const leap = d < 0 ? d : d - this.frameMs;
      if (d < 0) this.maxBack = Math.max(this.maxBack, -d);
      else this.maxFwd = Math.max(this.maxFwd, leap);
      if (Math.abs(leap) > this.leapThresholdMs && this.leaps.length < this.keep)
        this.leaps.push({ atMs: at, leapMs: leap });
    }
    this.frames++;
    this.lastArrival = arrivalMs;
    this.lastTs = timestampMs;
  }

  /**
   * The player reconnected: its timestamps start again, so no leap is measured across the
   * reconnect; the wall-clock gap across it still counts.
   */
  newSession(): void {
    this.lastTs = null;
  }

  summary(): TimelineSummary {
    return {
      frames: this.frames,
      sessions: this.sessions,
      gapsOver1s: this.gapsOver,
      maxGapMs: this.maxGap,
      maxForwardLeapMs: this.maxFwd,
      maxBackwardLeapMs: this.maxBack,
      maxTimestampLeapMs: Math.max(this.maxFwd, this.maxBack),
      gaps: [...this.gaps],
      leaps: [...this.leaps],
    };
  }
}

/** Lines of a log text that match each pattern (counted once per line per pattern). */
export function countMatches(text: string, patterns: Record<string, RegExp>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(Object.keys(patterns).map((k) => [k, 0]));
  for (const line of text.split('\n'))
    for (const [k, re] of Object.entries(patterns)) if (re.test(line)) out[k]++;
  return out;
}
