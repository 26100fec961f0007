/*
 * The directory's rule for which supernodes a joining node is given (apps/directory's NodesService calls it;
 * so does the simulator's directory, bench/sim).
 */

/** What ranking needs of a supernode. */
export interface RankableSupernode {
  nodeId: string;
  host: string;
  maxChildren: number | null;
  childCount: number;
}

/** Length of the common prefix of two host strings: 10.1.2.3 and 10.1.9.9 share "10.1.". */
export function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** A supernode has room while it has fewer members than its cap (no cap: unlimited). */
export function hasSpareCapacity(s: RankableSupernode): boolean {
  return s.maxChildren === null || s.childCount < s.maxChildren;
}

/**
 * Supernodes for a joining node: those with spare capacity first; then the closest by the hint (the
 * longest common prefix of the host string); then the fewest members; the node id breaks ties so
 * every replica answers in the same order.
 */
export function rankSupernodes<T extends RankableSupernode>(supernodes: T[], hint?: string, limit = 20): T[] {
  const keyed = supernodes.map((s) => ({
    s,
    spare: hasSpareCapacity(s) ? 0 : 1,
    closeness: hint ? commonPrefixLength(s.host, hint) : 0,
  }));
  keyed.sort(
    (x, y) =>
      x.spare - y.spare ||
      y.closeness - x.closeness ||
      x.s.childCount - y.s.childCount ||
      (x.s.nodeId < y.s.nodeId ? -1 : x.s.nodeId > y.s.nodeId ? 1 : 0),
  );
  return keyed.slice(0, limit).map((k) => k.s);
}
