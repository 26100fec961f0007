import { clockTagTime } from '@astral/media';
import { FlvTagReader } from '@astral/testing';

/**
 * The source's wall clock on a stream's FLV timeline, read from a relay's HTTP-FLV: the source relay stamps
 * `onAstralClock { wallClockMs }` once a second (docs/RELAY.md, "Wall clock"). The HLS bench uses it to date
 * the segments of a muxer that knows no source clock (ffmpeg's, run with -copyts so that its media times are
 * the FLV timestamps) on the same footing as Astral's EXT-X-PROGRAM-DATE-TIME.
 */
export class SourceClock {
  /** [FLV timestamp, wall clock ms] of every clock tag seen. */
  readonly stamps: [number, number][] = [];

  private constructor(readonly reader: FlvTagReader) {}

  /** Reads `flvUrl` with `?clock=1` (a relay sends its clock stamps only to players that ask). */
  static async open(flvUrl: string): Promise<SourceClock> {
    let clock: SourceClock | null = null;
    const url = new URL(flvUrl);
    url.searchParams.set('clock', '1');
    const reader = await FlvTagReader.open(url.toString(), (tag) => {
      const wall = clockTagTime(tag);
      if (wall !== null) clock?.stamps.push([tag.timestamp, wall]);
    });
    clock = new SourceClock(reader);
    return clock;
  }

  /** The source's wall clock at FLV timestamp `ts`, from the nearest stamp; null before the first stamp. */
  wallClockAt(ts: number): number | null {
    return wallClockAt(this.stamps, ts);
  }

  /**
   * The FLV timestamp of the keyframe within `toleranceMs` of `ts`, or null: a muxer's first dts of a segment
   * is its keyframe's FLV timestamp shifted by a few frames (mp4 composition offsets); GOPs are ~1 s apart.
   */
  keyframeNear(ts: number, toleranceMs = 150): number | null {
    let best: number | null = null;
    for (const f of this.reader.videoFrames)
      if (
        f.keyframe &&
        Math.abs(f.timestamp - ts) <= toleranceMs &&
        (best === null || Math.abs(f.timestamp - ts) < Math.abs(best - ts))
      )
        best = f.timestamp;
    return best;
  }

  close(): void {
    this.reader.close();
  }
}

/** The wall clock at `ts` from the nearest of `stamps` ([timestamp, wall]): wall + (ts − timestamp). */
export function wallClockAt(stamps: [number, number][], ts: number): number | null {
  let best: [number, number] | null = null;
  for (const s of stamps) if (!best || Math.abs(s[0] - ts) < Math.abs(best[0] - ts)) best = s;
  return best ? best[1] + (ts - best[0]) : null;
}
