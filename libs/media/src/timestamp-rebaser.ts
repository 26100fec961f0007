/**
 * Keeps an output timeline monotonic across input discontinuities, such as a switch to a new
 * upstream whose timestamps start elsewhere, or a publisher looping a file.
 *
 * While the input runs forward, out = in + offset. After `discontinuity()`, the next input
 * timestamp is placed one `gapMs` after the last output, and the offset is re-derived from it.
 * A backwards jump of more than `maxBackwardsMs` is treated as a discontinuity on its own; a small one
 * (B-frame reordering, audio/video interleave) passes through, clamped so the output never goes back.
 */
export class TimestampRebaser {
  private offset = 0;
  private lastIn: number | null = null;
  private lastOut: number | null = null;
  private pending = false;

  constructor(
    private readonly gapMs = 1,
    private readonly maxBackwardsMs = 1000,
    private readonly maxForwardsMs = 10_000,
  ) {}

  /** Marks that the next timestamp begins a new input timeline. */
  discontinuity(): void {
    this.pending = true;
  }

  rebase(inputTs: number): number {
    if (this.lastOut === null || this.lastIn === null) {
      this.lastIn = inputTs;
      this.lastOut = inputTs + this.offset;
      this.pending = false;
      return this.lastOut;
    }
    const jump = inputTs - this.lastIn;
    if (this.pending || jump < -this.maxBackwardsMs || jump > this.maxForwardsMs) {
      this.offset = this.lastOut + this.gapMs - inputTs;
      this.pending = false;
    }
    this.lastIn = inputTs;
    const out = Math.max(inputTs + this.offset, this.lastOut);
    this.lastOut = out;
    return out;
  }

  get lastOutput(): number | null {
    return this.lastOut;
  }
}
