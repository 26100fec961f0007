/**
 * Placements this replica made that the placed node's heartbeats do not show yet: counted against its free upload,
 * so a burst of viewers spreads instead of landing on the node that looked emptiest at its last heartbeat. A
 * placement stops counting once a heartbeat arrives at least `graceMs` after it (the viewer had time to connect,
 * so the node's reported commitment includes it), or after `maxAgeMs` in any case (a viewer that never came).
 * Bounded: old entries go on every record and a full sweep runs every `sweepEvery` records; at most `maxEntries`
 * are kept (the oldest go first).
 */
export class PendingPlacements {
  private readonly byNode = new Map<string, { at: number; bps: number }[]>();
  private entries = 0;
  private sinceSweep = 0;

  constructor(
    readonly graceMs = 1500,
    readonly maxAgeMs = 10_000,
    readonly maxEntries = 20_000,
    private readonly sweepEvery = 1000,
  ) {}

  record(nodeId: string, bps: number, now: number): void {
    if (++this.sinceSweep >= this.sweepEvery || this.entries >= this.maxEntries) this.sweep(now);
    if (this.entries >= this.maxEntries) this.dropOldest();
    const list = this.byNode.get(nodeId) ?? [];
    if (list.length === 0) this.byNode.set(nodeId, list);
    list.push({ at: now, bps });
    this.entries++;
  }

  /** Upload of placements on `nodeId` that its last heartbeat (at `lastReportAt`) does not account for. */
  pendingBps(nodeId: string, lastReportAt: number | null, now: number): number {
    const list = this.byNode.get(nodeId);
    if (!list) return 0;
    let sum = 0;
    for (const p of list) {
      const accounted = lastReportAt !== null && lastReportAt >= p.at + this.graceMs;
      if (!accounted && p.at > now - this.maxAgeMs) sum += p.bps;
    }
    return sum;
  }

  get size(): number {
    return this.entries;
  }

  private sweep(now: number): void {
    this.sinceSweep = 0;
    for (const [nodeId, list] of this.byNode) {
      const kept = list.filter((p) => p.at > now - this.maxAgeMs);
      this.entries -= list.length - kept.length;
      if (kept.length === 0) this.byNode.delete(nodeId);
      else this.byNode.set(nodeId, kept);
    }
  }

  private dropOldest(): void {
    let oldest: { nodeId: string; at: number } | undefined;
    for (const [nodeId, list] of this.byNode)
      if (!oldest || list[0].at < oldest.at) oldest = { nodeId, at: list[0].at };
    if (!oldest) return;
    const list = this.byNode.get(oldest.nodeId)!;
    list.shift();
    this.entries--;
    if (list.length === 0) this.byNode.delete(oldest.nodeId);
  }
}
