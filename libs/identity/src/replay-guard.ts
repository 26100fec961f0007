export type ReplayVerdict = 'fresh' | 'stale' | 'replayed' | 'busy';

/**
 * Refuses replays of signed, timestamped messages: a message is `fresh` once, if its timestamp is
 * within `windowMs` of now; its nonce is remembered until its timestamp leaves the window, so memory is
 * bounded by the rate of fresh messages times the window — and by `maxEntries` outright (past it, new
 * messages are refused as `busy` rather than letting a flood grow the set).
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private sincePrune = 0;

  constructor(
    private readonly windowMs = 30_000,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  check(nonce: string, timestampMs: number): ReplayVerdict {
    const now = this.now();
    if (!Number.isFinite(timestampMs) || Math.abs(now - timestampMs) > this.windowMs) return 'stale';
    if (this.seen.has(nonce)) return 'replayed';
    if (this.seen.size >= this.maxEntries) {
      this.prune(now);
      if (this.seen.size >= this.maxEntries) return 'busy';
    }
    this.seen.set(nonce, timestampMs);
    if (++this.sincePrune >= 1024) {
      this.sincePrune = 0;
      this.prune(now);
    }
    return 'fresh';
  }

  get size(): number {
    return this.seen.size;
  }

  /** Forgets nonces whose timestamps have left the window (they would be refused as stale anyway). */
  prune(now = this.now()): void {
    for (const [nonce, ts] of this.seen) if (now - ts > this.windowMs) this.seen.delete(nonce);
  }
}
