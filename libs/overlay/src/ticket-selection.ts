/** The fields of an offer that selection looks at. */
export interface OfferCandidate {
  nodeId: string;
  hops: number;
  /** The offerer's upstream path, source first, itself last. */
  path: string[];
  /** Spare upload after this forward; null is unlimited. */
  headroomBps: number | null;
}

/**
 * Picks the offer to confirm: never one whose path runs through the requester (that would be a loop,
 * taking the stream from one's own descendant), nor one from an excluded node; then fewest hops, then
 * lowest round-trip time, then most headroom. An offer from `lastResortId` (the stream's source) is
 * taken only when no other node can serve: the source's spare upload stays free for the nodes that
 * have nobody else, such as the orphans of a failed node. Returns the chosen offer and the ones to cancel.
 */
export function selectOffer<T extends OfferCandidate>(
  requesterId: string,
  offers: T[],
  rttMs: ReadonlyMap<string, number> = new Map(),
  exclude: ReadonlySet<string> = new Set(),
  lastResortId?: string,
): { chosen: T | null; rejected: T[] } {
  const allowed = offers.filter(
    (o) => !o.path.includes(requesterId) && o.nodeId !== requesterId && !exclude.has(o.nodeId),
  );
  const others = allowed.filter((o) => o.nodeId !== lastResortId);
  const usable = others.length > 0 ? others : allowed;
  const rtt = (o: T) => rttMs.get(o.nodeId) ?? Number.POSITIVE_INFINITY;
  const headroom = (o: T) => (o.headroomBps === null ? Number.POSITIVE_INFINITY : o.headroomBps);
  const sorted = [...usable].sort((a, b) => a.hops - b.hops || rtt(a) - rtt(b) || headroom(b) - headroom(a));
  const chosen = sorted[0] ?? null;
  return { chosen, rejected: offers.filter((o) => o !== chosen) };
}

/**
 * The order in which a viewer asks for tickets: nodes already carrying the stream (nearest the
 * source first), then supernodes, then the source itself last, so the source serves only when nobody
 * else can. Duplicates and the requester itself are removed.
 */
export function candidateOrder(
  requesterId: string,
  carriers: { nodeId: string; hops: number }[],
  supernodes: string[],
  sourceNodeId: string,
  exclude: ReadonlySet<string> = new Set(),
): string[] {
  const seen = new Set<string>([requesterId, sourceNodeId, ...exclude]);
  const out: string[] = [];
  for (const c of [...carriers].sort((a, b) => a.hops - b.hops)) {
    if (!seen.has(c.nodeId)) {
      seen.add(c.nodeId);
      out.push(c.nodeId);
    }
  }
  for (const s of supernodes) {
    if (!seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  }
  if (requesterId !== sourceNodeId && !exclude.has(sourceNodeId)) out.push(sourceNodeId);
  return out;
}

/**
 * The nodes a failover's ticket request leaves out: the lost upstream on the first attempt, so the node
 * does not go straight back to it; never the source (without it nobody has the stream, and after a
 * transient stall it may be the only node that can serve, when every other carrier is below this one);
 * nobody on the retries after a failed attempt (a node that is really gone does not answer).
 */
export function failoverExclusion(
  lostNodeId: string | null | undefined,
  sourceNodeId: string,
  firstAttempt: boolean,
): Set<string> {
  return new Set(lostNodeId && firstAttempt && lostNodeId !== sourceNodeId ? [lostNodeId] : []);
}
