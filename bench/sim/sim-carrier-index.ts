/**
 * The simulated directory's carriers of one stream, in the directory's order (fewest hops first, then the
 * oldest carrying report), with an index of the carriers that have room for one more copy: a ListCarriers
 * at 100,000 nodes must not scan every carrier row, most of which are full.
 */
export interface IndexedCarrier {
  nodeId: string;
  hops: number;
  /** Order of the last carrying report (the directory's updated_at). */
  seq: number;
  /** Whether its node reported room for one more copy (kept in the open index). */
  open: boolean;
  upstreamNodeId: string | null;
  players: number;
  bitrateBps: number | null;
}

export class CarrierIndex {
  private readonly byNode = new Map<string, IndexedCarrier>();
  /** Open carriers per hop count, sorted by seq. */
  private readonly levels: IndexedCarrier[][] = [];
  private seq = 0;

  get size(): number {
    return this.byNode.size;
  }

  get(nodeId: string): IndexedCarrier | undefined {
    return this.byNode.get(nodeId);
  }

  /** A carrying report: the carrier (re)takes its place at the end of its level. */
  carry(nodeId: string, hops: number, open: boolean): void {
    const old = this.byNode.get(nodeId);
    if (old) this.unlist(old);
    const c: IndexedCarrier = old ?? {
      nodeId,
      hops,
      seq: 0,
      open: false,
      upstreamNodeId: null,
      players: 0,
      bitrateBps: null,
    };
    c.hops = hops;
    c.seq = ++this.seq;
    c.open = false;
    this.byNode.set(nodeId, c);
    this.setOpen(nodeId, open);
  }

  /** Its node's room changed (a heartbeat's commitment). */
  setOpen(nodeId: string, open: boolean): void {
    const c = this.byNode.get(nodeId);
    if (!c || c.open === open) return;
    if (!open) return this.unlist(c);
    const level = (this.levels[c.hops] ??= []);
    let lo = 0;
    let hi = level.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (level[mid].seq < c.seq) lo = mid + 1;
      else hi = mid;
    }
    level.splice(lo, 0, c);
    c.open = true;
  }

  remove(nodeId: string): void {
    const c = this.byNode.get(nodeId);
    if (!c) return;
    this.unlist(c);
    this.byNode.delete(nodeId);
  }

  clear(): void {
    this.byNode.clear();
    this.levels.length = 0;
  }

  /** The first `limit` open carriers in the directory's order. */
  firstOpen(limit: number): IndexedCarrier[] {
    const out: IndexedCarrier[] = [];
    for (const level of this.levels) {
      if (!level) continue;
      for (const c of level) {
        out.push(c);
        if (out.length === limit) return out;
      }
    }
    return out;
  }

  private unlist(c: IndexedCarrier): void {
    if (!c.open) return;
    const level = this.levels[c.hops];
    let lo = 0;
    let hi = level.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (level[mid].seq < c.seq) lo = mid + 1;
      else hi = mid;
    }
    if (level[lo] === c) level.splice(lo, 1);
    c.open = false;
  }
}
