import { FlvTag, FlvTagType } from './flv/flv-tag';

/** CompositionTime of an AVC/HEVC video frame (signed 24 bits), 0 for anything else. */
export function compositionTime(tag: FlvTag): number {
  if (tag.type !== FlvTagType.Video || tag.data.length < 5) return 0;
  const codec = tag.data[0] & 0x0f;
  if ((codec !== 7 && codec !== 12) || tag.data[1] !== 1) return 0;
  const v = tag.data.readUIntBE(2, 3);
  return v & 0x800000 ? v - 0x1000000 : v;
}

/**
 * The output timeline of a relayed stream across upstream switches. One offset for all tracks, so
 * audio and video stay in sync; it changes only at a discontinuity (a switch, or a jump in the input).
 * There the next tag is placed after everything already output: after the latest decode timestamp,
 * and with its presentation time (decode time + composition time, B-frames) one frame after the latest
 * presentation time, so a decoder never sees pictures go back in time across the switch.
 * Each track (audio, video) stays strictly increasing on its own: unlike a clamp shared by the tracks,
 * interleaved audio never pushes a video timestamp onto the previous one.
 */
export class RelayedTimeline {
  private offset = 0;
  private lastIn: number | null = null;
  private readonly lastOutByTrack = new Map<number, number>();
  private maxOut: number | null = null;
  private maxVideoPts: number | null = null;
  private frameMs = 40;
  private pending = false;

  constructor(
    private readonly gapMs = 1,
    private readonly maxBackwardsMs = 1000,
    private readonly maxForwardsMs = 10_000,
  ) {}

  /** The next tag begins a new input timeline. */
  discontinuity(): void {
    this.pending = true;
  }

  /**
   * The input timeline moves by `deltaMs` without a discontinuity: from now on the same frame comes in
   * carrying `ts + deltaMs` (a spliced standby whose path re-based it), and maps to the same output.
   */
  shift(deltaMs: number): void {
    this.offset -= deltaMs;
    if (this.lastIn !== null) this.lastIn += deltaMs;
  }

  /** Latest output timestamp on any track (for headers, which carry no media time). */
  get latest(): number | null {
    return this.maxOut;
  }

  /** The output timestamp of a media tag (audio or video frame). */
  map(tag: FlvTag): number {
    const inputTs = tag.timestamp;
    const cts = compositionTime(tag);
    if (this.lastIn !== null && this.maxOut !== null) {
      const jump = inputTs - this.lastIn;
      if (this.pending || jump < -this.maxBackwardsMs || jump > this.maxForwardsMs) {
        let offset = this.maxOut + this.gapMs - inputTs;
        if (this.maxVideoPts !== null && tag.type === FlvTagType.Video) {
          offset = Math.max(offset, this.maxVideoPts + this.frameMs - (inputTs + cts));
        }
        this.offset = offset;
      }
    }
    this.pending = false;
    this.lastIn = inputTs;
    let out = inputTs + this.offset;
    const prev = this.lastOutByTrack.get(tag.type);
    if (prev !== undefined && out <= prev) out = prev + 1;
    if (tag.type === FlvTagType.Video) {
      if (prev !== undefined && out - prev < 1000) this.frameMs = Math.max(1, out - prev);
      const pts = out + cts;
      if (this.maxVideoPts === null || pts > this.maxVideoPts) this.maxVideoPts = pts;
    }
    this.lastOutByTrack.set(tag.type, out);
    if (this.maxOut === null || out > this.maxOut) this.maxOut = out;
    return out;
  }
}
