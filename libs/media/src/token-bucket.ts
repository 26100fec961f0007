/**
 * A token bucket in bytes, refilled at `rateBitsPerSecond / 8` bytes per second, holding at most
 * `burstBytes`. Time is passed in by the caller (milliseconds), so the logic is pure and testable.
 * A rate of Infinity means unlimited.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rateBitsPerSecond: number,
    private burstBytes: number,
    now: number,
  ) {
    this.tokens = burstBytes;
    this.last = now;
  }

  get rate(): number {
    return this.rateBitsPerSecond;
  }

  setRate(rateBitsPerSecond: number, burstBytes = this.burstBytes, now?: number): void {
    if (now !== undefined) this.refill(now);
    this.rateBitsPerSecond = rateBitsPerSecond;
    this.burstBytes = burstBytes;
    this.tokens = Math.min(this.tokens, burstBytes);
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    if (!Number.isFinite(this.rateBitsPerSecond)) {
      this.tokens = this.burstBytes;
      return;
    }
    this.tokens = Math.min(this.burstBytes, this.tokens + (elapsed * this.rateBitsPerSecond) / 8000);
  }

  /** Takes `bytes` if available now. Never goes negative. */
  tryTake(bytes: number, now: number): boolean {
    this.refill(now);
    if (!Number.isFinite(this.rateBitsPerSecond)) return true;
    if (this.tokens >= bytes || (bytes > this.burstBytes && this.tokens >= this.burstBytes)) {
      this.tokens -= bytes;
      return true;
    }
    return false;
  }

  /**
   * Takes `bytes` that were sent anyway (players, which cannot wait): the bucket may go into debt, at most
   * one second of the rate (or one burst), so whoever waits for tokens (forwards) waits that much longer.
   */
  charge(bytes: number, now: number): void {
    this.refill(now);
    if (!Number.isFinite(this.rateBitsPerSecond)) return;
    const maxDebt = Math.max(this.burstBytes, this.rateBitsPerSecond / 8);
    this.tokens = Math.max(-maxDebt, this.tokens - bytes);
  }

  /** Milliseconds until `bytes` can be taken (0 if now). */
  waitMs(bytes: number, now: number): number {
    this.refill(now);
    if (!Number.isFinite(this.rateBitsPerSecond)) return 0;
    const need = Math.min(bytes, this.burstBytes) - this.tokens;
    if (need <= 0) return 0;
    if (this.rateBitsPerSecond <= 0) return Infinity;
    return Math.ceil((need * 8000) / this.rateBitsPerSecond);
  }
}
