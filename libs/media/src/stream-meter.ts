import { FlvTag, FlvTagType, isKeyframe, isVideoFrame } from './flv/flv-tag';

export interface StreamMeasure {
  /** Average over the window, bits per second, including FLV framing. */
  bitrateBps: number;
  /** Highest one-second rate seen in the window. */
  peakBitrateBps: number;
  fps: number;
  /** Mean milliseconds between keyframes in the window, or null before two keyframes. */
  keyframeIntervalMs: number | null;
}

interface Second {
  at: number;
  bytes: number;
  frames: number;
}

/** Measures a stream's real bitrate, frame rate and keyframe interval over a sliding window. */
export class StreamMeter {
  private seconds: Second[] = [];
  private keyframeTimes: number[] = [];

  constructor(private readonly windowMs = 5000) {}

  record(tag: FlvTag, wireBytes: number, now: number): void {
    const second = Math.floor(now / 1000) * 1000;
    let slot = this.seconds[this.seconds.length - 1];
    if (!slot || slot.at !== second) {
      slot = { at: second, bytes: 0, frames: 0 };
      this.seconds.push(slot);
    }
    slot.bytes += wireBytes;
    if (tag.type === FlvTagType.Video && isVideoFrame(tag)) slot.frames += 1;
    if (isKeyframe(tag) && isVideoFrame(tag)) {
      this.keyframeTimes.push(tag.timestamp);
      if (this.keyframeTimes.length > 16) this.keyframeTimes.shift();
    }
    this.trim(now);
  }

  private trim(now: number): void {
    const from = now - this.windowMs;
    while (this.seconds.length > 0 && this.seconds[0].at + 1000 <= from) this.seconds.shift();
  }

  measure(now: number): StreamMeasure {
    this.trim(now);
    // Only whole seconds count towards the average, so a fresh stream is not under-reported.
    const full = this.seconds.filter((s) => s.at + 1000 <= now);
    const bytes = full.reduce((n, s) => n + s.bytes, 0);
    const frames = full.reduce((n, s) => n + s.frames, 0);
    const spanS = full.length;
    const peak = full.reduce((m, s) => Math.max(m, s.bytes * 8), 0);
    const k = this.keyframeTimes;
    const keyframeIntervalMs = k.length >= 2 ? (k[k.length - 1] - k[0]) / (k.length - 1) : null;
    return {
      bitrateBps: spanS > 0 ? Math.round((bytes * 8) / spanS) : 0,
      peakBitrateBps: peak,
      fps: spanS > 0 ? frames / spanS : 0,
      keyframeIntervalMs,
    };
  }
}
