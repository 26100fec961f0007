import { TokenBucket } from '@astral/media';

/** A connection that sends through the budget. */
export interface BudgetedSender {
  /** Size of the next item it would send now, or 0 if it has nothing (or its socket is full). */
  headBytes(): number;
  /** Sends that item; the budget has already taken its bytes. */
  sendHead(): void;
  /** Sends what it can by itself (used when the limit is lifted). */
  pump(): void;
}

/** Bytes a waiting sender is credited per round (deficit round robin): fairness in bytes, not tags. */
const QUANTUM = 8 * 1024;

/**
 * The relay's one upload budget, shared by all of its forward connections: a token bucket in bits per
 * second. Unlimited, it only counts. Limited, connections with data queue up and are served by
 * deficit round robin, so each gets an equal share in bytes whatever its tag sizes; one timer wakes
 * the queue when the tokens for the next item are due.
 */
export class UploadBudget {
  private readonly bucket: TokenBucket;
  private readonly queue: BudgetedSender[] = [];
  private readonly members = new Set<BudgetedSender>();
  private readonly deficit = new Map<BudgetedSender, number>();
  private current: BudgetedSender | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sentBytes = 0;
  private unlimited: boolean;

  constructor(
    limitBps: number | null,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.bucket = new TokenBucket(limitBps ?? Infinity, UploadBudget.burstFor(limitBps), clock());
    this.unlimited = limitBps === null;
  }

  /** Enough burst for one video frame at high bitrates, small enough to keep the rate tight. */
  private static burstFor(limitBps: number | null): number {
    if (limitBps === null) return Infinity;
    return Math.max(64 * 1024, Math.round(limitBps / 8 / 10));
  }

  get limitBps(): number | null {
    return Number.isFinite(this.bucket.rate) ? this.bucket.rate : null;
  }

  get limited(): boolean {
    return !this.unlimited;
  }

  /** Whether connections are waiting for tokens (a newcomer must then queue behind them). */
  get contended(): boolean {
    return this.queue.length > 0;
  }

  setLimit(limitBps: number | null): void {
    this.bucket.setRate(limitBps ?? Infinity, UploadBudget.burstFor(limitBps), this.clock());
    this.unlimited = limitBps === null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.unlimited) {
      const senders = [...this.queue];
      this.clearQueue();
      for (const s of senders) s.pump();
    } else this.serve();
  }

  /** Takes budget for `bytes` at once, or returns false. */
  take(bytes: number): boolean {
    if (this.unlimited) {
      // The hot path of an unlimited relay: no clock read, no arithmetic beyond the count.
      this.sentBytes += bytes;
      return true;
    }
    const ok = this.bucket.tryTake(bytes, this.clock());
    if (ok) this.sentBytes += bytes;
    return ok;
  }

  /**
   * Counts bytes a player was sent (players are written as node-media-server hands them, never held): they
   * take the bucket's tokens, into debt if need be, so forwards wait and the total stays within the limit.
   */
  charge(bytes: number): void {
    this.sentBytes += bytes;
    if (!this.unlimited) this.bucket.charge(bytes, this.clock());
  }

  /** Total bytes granted so far (for egress stats). */
  get grantedBytes(): number {
    return this.sentBytes;
  }

  /** The sender has data waiting: it is served in turn as tokens allow. */
  wait(sender: BudgetedSender): void {
    if (!this.members.has(sender)) {
      this.members.add(sender);
      this.queue.push(sender);
    }
    if (!this.timer) this.serve();
  }

  forget(sender: BudgetedSender): void {
    if (!this.members.delete(sender)) return;
    this.queue.splice(this.queue.indexOf(sender), 1);
    this.deficit.delete(sender);
    if (this.current === sender) this.current = null;
  }

  private serve(): void {
    this.timer = null;
    while (this.queue.length > 0) {
      const s = this.queue[0];
      const need = s.headBytes();
      if (need === 0) {
        this.forget(s); // it re-registers when it has data and room again
        continue;
      }
      if (this.current !== s) {
        this.current = s;
        this.deficit.set(s, (this.deficit.get(s) ?? 0) + QUANTUM);
      }
      const credit = this.deficit.get(s) ?? 0;
      if (need > credit) {
        // Its turn is over: to the back, keeping the credit for its next turn.
        this.queue.push(this.queue.shift() as BudgetedSender);
        this.current = null;
        continue;
      }
      if (!this.bucket.tryTake(need, this.clock())) {
        const ms = this.bucket.waitMs(need, this.clock());
        this.timer = setTimeout(() => this.serve(), Number.isFinite(ms) ? Math.max(1, ms) : 1000);
        return;
      }
      this.sentBytes += need;
      this.deficit.set(s, credit - need);
      s.sendHead();
    }
  }

  private clearQueue(): void {
    this.queue.length = 0;
    this.members.clear();
    this.deficit.clear();
    this.current = null;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.clearQueue();
  }
}
