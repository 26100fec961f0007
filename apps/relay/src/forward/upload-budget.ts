import { TokenBucket } from '@astral/media';

/** A connection that waits for upload budget. */
export interface BudgetedSender {
  /** Sends what the budget allows; returns false if it still has data waiting. */
  pump(): boolean;
}

/**
 * The relay's one upload budget, shared by all of its forward connections: a token bucket in bits per
 * second. Connections that run out of tokens wait in FIFO order; one timer wakes them when tokens are due.
 */
export class UploadBudget {
  private readonly bucket: TokenBucket;
  private readonly waiting = new Set<BudgetedSender>();
  private timer: NodeJS.Timeout | null = null;
  private sentBytes = 0;

  constructor(
    limitBps: number | null,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.bucket = new TokenBucket(limitBps ?? Infinity, UploadBudget.burstFor(limitBps), clock());
  }

  /** Enough burst for one video frame at high bitrates, small enough to keep the rate tight. */
  private static burstFor(limitBps: number | null): number {
    if (limitBps === null) return Infinity;
    return Math.max(64 * 1024, Math.round(limitBps / 8 / 10));
  }

  get limitBps(): number | null {
    return Number.isFinite(this.bucket.rate) ? this.bucket.rate : null;
  }

  setLimit(limitBps: number | null): void {
    this.bucket.setRate(limitBps ?? Infinity, UploadBudget.burstFor(limitBps), this.clock());
    this.wake();
  }

  /** Takes budget for `bytes`, or returns false. */
  take(bytes: number): boolean {
    const ok = this.bucket.tryTake(bytes, this.clock());
    if (ok) this.sentBytes += bytes;
    return ok;
  }

  /** Total bytes granted so far (for egress stats). */
  get grantedBytes(): number {
    return this.sentBytes;
  }

  /** The sender ran out of budget with `bytes` pending; it is pumped again when they are due. */
  wait(sender: BudgetedSender, bytes: number): void {
    this.waiting.add(sender);
    if (this.timer) return;
    const ms = this.bucket.waitMs(bytes, this.clock());
    this.timer = setTimeout(() => this.wake(), Number.isFinite(ms) ? Math.max(1, ms) : 1000);
  }

  forget(sender: BudgetedSender): void {
    this.waiting.delete(sender);
  }

  private wake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const senders = [...this.waiting];
    this.waiting.clear();
    // Rotate fairly: each sender pumps once; one that still waits re-registers itself.
    for (const s of senders) s.pump();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.waiting.clear();
  }
}
