/**
 * Keeps a flood from becoming a flood of log lines: the first event of a key is logged, then at most one
 * line per `windowMs` with the number of events passed over since. Pure apart from the clock it is given.
 */
export class LogThrottle {
  private readonly seen = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(
    private readonly windowMs = 10_000,
    private readonly maxKeys = 1000,
  ) {}

  /** Returns null to stay quiet, or the number of events suppressed since the last line for `key`. */
  take(key: string, now = Date.now()): number | null {
    const entry = this.seen.get(key);
    if (!entry || now - entry.loggedAt >= this.windowMs) {
      if (!entry && this.seen.size >= this.maxKeys) this.prune(now);
      const suppressed = entry?.suppressed ?? 0;
      this.seen.set(key, { loggedAt: now, suppressed: 0 });
      return suppressed;
    }
    entry.suppressed += 1;
    return null;
  }

  private prune(now: number): void {
    for (const [k, e] of this.seen) if (now - e.loggedAt >= this.windowMs) this.seen.delete(k);
    // Still full of fresh keys (a spread-out flood): forget the oldest rather than grow.
    if (this.seen.size >= this.maxKeys) this.seen.delete(this.seen.keys().next().value as string);
  }
}
