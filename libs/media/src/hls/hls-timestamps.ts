/**
 * The segmenter's clock: FLV timestamps (32-bit milliseconds) unwrapped into one monotonic millisecond line,
 * checked for jumps, and turned into track ticks. Pure.
 */

const WRAP = 2 ** 32;
const HALF_WRAP = 2 ** 31;

/** Past this many ms forward between two samples of one track, the source's timeline jumped. */
export const MAX_FORWARD_JUMP_MS = 10_000;

/** The samples of one AAC frame: a gap within about a millisecond of this is one frame exactly. */
export const AAC_FRAME_TICKS = 1024;

/**
 * Unwraps 32-bit ms timestamps: each is read as the signed 32-bit difference from the previous one, so
 * 0xffffff00 → 0x00000100 is +512 ms (a stream running past 49.7 days), not −49.7 days.
 */
export class TimestampUnwrapper {
  private lastRaw: number | null = null;
  private lastMs = 0;

  /** The unwrapped ms of a media timestamp; it becomes the reference for the next. */
  advance(raw: number): number {
    const ms = this.peek(raw);
    this.lastRaw = raw >>> 0;
    this.lastMs = ms;
    return ms;
  }

  /** The unwrapped ms of a timestamp read against the latest media one, without moving (clock tags). */
  peek(raw: number): number {
    const r = raw >>> 0;
    if (this.lastRaw === null) return r;
    let delta = (r - this.lastRaw) % WRAP;
    if (delta >= HALF_WRAP) delta -= WRAP;
    if (delta < -HALF_WRAP) delta += WRAP;
    return this.lastMs + delta;
  }
}

/** Why a track's next timestamp cannot follow the previous one, or null when it can. */
export function timestampJump(previousMs: number | null, ms: number): string | null {
  if (previousMs === null) return null;
  if (ms < previousMs) return `timestamp went back ${previousMs - ms} ms`;
  if (ms - previousMs > MAX_FORWARD_JUMP_MS) return `timestamp jumped ${ms - previousMs} ms forward`;
  return null;
}

/**
 * Audio decode time in sample-rate ticks. FLV rounds each AAC frame's time to a millisecond (23 or 24 ms at
 * 44.1 kHz); a gap within about a millisecond of one frame is taken as exactly 1024 ticks, so durations do
 * not jitter and the track does not drift. Any other gap (a lost frame, a jump) uses the timestamp as is.
 */
export function audioTicks(ms: number, sampleRate: number, previousTicks: number | null): number {
  const raw = Math.round((ms * sampleRate) / 1000);
  if (previousTicks === null) return raw;
  const expected = previousTicks + AAC_FRAME_TICKS;
  return Math.abs(raw - expected) <= Math.ceil(sampleRate / 1000) + 1 ? expected : raw;
}
