import { admitsForward } from '../headroom';

/*
 * The directory's rule for which carriers of a stream it lists to a node looking for an upstream
 * (DirectoryPatterns.ListCarriers): apps/directory's StreamsService calls it, and so does the simulator's
 * directory (bench/sim), so the simulated network lists what the real one lists.
 */

/** The most carriers one listing holds: at 100,000 nodes "every carrier" is no usable reply. */
export const LISTED_CARRIERS = 32;

/** What the rule needs of a carrier: its depth, and its node's upload limit and commitment as reported. */
export interface ListableCarrier {
  nodeId: string;
  hops: number;
  /** The node's upload limit; null is unlimited, 0 never forwards. */
  uploadLimitBps: number | null;
  /** Upload the node has promised, as its heartbeats report it (0 while it has reported none). */
  committedBps: number;
}

/**
 * The carriers worth asking for a ticket: those that reported they can forward one more copy of the stream
 * (`admitsForward` at its bit rate, as `advertisedCarrying` decides what a member tells its supernode),
 * fewest hops first, keeping the given order among equal hops (the directory's: oldest carrying report
 * first, then node id), at most `limit`. A full carrier is left out, so a viewer does not spend its few
 * requests on nodes that must refuse; the source is left out when full too (the viewer asks it last anyway).
 */
export function listedCarriers<T extends ListableCarrier>(
  carriers: readonly T[],
  bitrateBps: number,
  limit = LISTED_CARRIERS,
): T[] {
  const open = carriers
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => admitsForward(c.uploadLimitBps, c.committedBps, bitrateBps));
  open.sort((a, b) => a.c.hops - b.c.hops || a.i - b.i);
  return open.slice(0, Math.max(0, limit)).map(({ c }) => c);
}
