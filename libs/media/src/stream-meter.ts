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
  private firstAt: number | null = null;

  constructor(private readonly windowMs = 5000) {}

  record(tag: FlvTag, wireBytes: number, now: number): void {
    if (this.firstAt === null) this.firstAt = now;
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

  /**
   * Averages over the time actually observed within the window, so a stream that started mid-second is
   * not under-reported. Before one second of observation the bit rate is 0: not measured yet.
   */
  measure(now: number): StreamMeasure {
    this.trim(now);
    const k = this.keyframeTimes;
    const keyframeIntervalMs = k.length >= 2 ? (k[k.length - 1] - k[0]) / (k.length - 1) : null;
    // The window starts on a second boundary, so it holds whole one-second slots (the first slot of a
    // stream holds only bytes seen after firstAt, which is where the span starts then).
    const windowStart = Math.floor((now - this.windowMs) / 1000) * 1000 + 1000;
    const from = Math.max(this.firstAt ?? now, windowStart);
    const spanMs = now - from;
    if (spanMs < 1000) return { bitrateBps: 0, peakBitrateBps: 0, fps: 0, keyframeIntervalMs };
    const inWindow = this.seconds.filter((s) => s.at + 1000 > from);
    const bytes = inWindow.reduce((n, s) => n + s.bytes, 0);
    const frames = inWindow.reduce((n, s) => n + s.frames, 0);
    // Peak over whole seconds only; a partial second would under-state it.
    const peak = inWindow.filter((s) => s.at + 1000 <= now).reduce((m, s) => Math.max(m, s.bytes * 8), 0);
    return {
      bitrateBps: Math.round((bytes * 8000) / spanMs),
      peakBitrateBps: Math.max(peak, Math.round((bytes * 8000) / spanMs)),
      fps: (frames * 1000) / spanMs,
      keyframeIntervalMs,
    };
  }
}
