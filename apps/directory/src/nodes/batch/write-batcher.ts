/**
 * Collects the writes of a short window and hands them to `flush` together, so a burst of registrations
 * or heartbeats costs one statement and one commit per window instead of one per message
 * (docs/DIRECTORY.md, "Batched writes"). A batch is flushed when it holds `maxBatch` items or `windowMs`
 * after its first item, whichever comes first; at most `concurrency` flushes at a time, the next batch
 * filling meanwhile.
 *
 * `flush` gets items whose `keyOf` values are distinct (a node's second registration in one window goes
 * to the next round: one multi-row upsert may not touch a row twice) and returns one result per item,
 * in order, or an Error for an item it refused. If it throws, every item of the round fails with it.
 */
export class WriteBatcher<I, R> {
  private pending: { item: I; resolve: (r: R) => void; reject: (e: Error) => void }[] = [];
  private timer?: NodeJS.Timeout;
  /** Batches waiting for a free flush slot, and the flushes running. */
  private readonly queued: WriteBatcher<I, R>['pending'][] = [];
  private active = 0;
  /** Rounds flushed and items written, for the metrics and benches. */
  readonly counts = { rounds: 0, items: 0 };

  constructor(
    private readonly flush: (items: I[]) => Promise<(R | Error)[]>,
    private readonly keyOf: (item: I) => string,
    private readonly windowMs = 5,
    private readonly maxBatch = 200,
    /** Told the size of every round written (the metrics count statements per message with it). */
    private readonly onRound: (items: number) => void = () => undefined,
    /** Flushes at once (PostgreSQL runs them on its pool; SQLite's are queued on its one connection anyway). */
    private readonly concurrency: number | (() => number) = 1,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.schedule(0);
      else this.schedule(this.windowMs);
    });
  }

  private schedule(delayMs: number): void {
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.queued.push(this.pending);
      this.pending = [];
      this.drain();
    }, delayMs);
  }

  private drain(): void {
    const slots = typeof this.concurrency === 'number' ? this.concurrency : this.concurrency();
    while (this.active < slots && this.queued.length > 0) {
      const batch = this.queued.shift()!;
      this.active++;
      void this.write(batch).finally(() => {
        this.active--;
        this.drain();
      });
    }
  }

  private async write(batch: WriteBatcher<I, R>['pending']): Promise<void> {
    for (const round of splitRounds(batch, (p) => this.keyOf(p.item))) {
      this.counts.rounds++;
      this.counts.items += round.length;
      this.onRound(round.length);
      try {
        const results = await this.flush(round.map((p) => p.item));
        round.forEach((p, i) => {
          const r = results[i];
          if (r instanceof Error) p.reject(r);
          else p.resolve(r);
        });
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        for (const p of round) p.reject(e);
      }
    }
  }
}

/** Splits items into rounds in which every key appears once, keeping each key's order. Pure. */
export function splitRounds<T>(items: T[], keyOf: (item: T) => string): T[][] {
  const rounds: T[][] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    const key = keyOf(item);
    const r = seen.get(key) ?? 0;
    seen.set(key, r + 1);
    (rounds[r] ??= []).push(item);
  }
  return rounds;
}
