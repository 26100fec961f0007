import { ASSUMED_BITRATE_BPS, CarrierState, freeOf, isAlive } from '../streams/carrier-state';

/**
 * Where one viewer should play a stream: the stream's carriers ranked for it. Pure.
 *
 * - A node is offered only with free upload (limit − committed − placements not yet in its heartbeats) of at
 *   least the stream's bit rate; an unlimited node always has room.
 * - Most room first, counted in viewers' worth (whole bit rates) so that nodes with about the same room tie; then
 *   fewer hops; then at random, so that equal nodes share a burst.
 * - The source only when no other carrier has room; excluded nodes never; nodes silent for the expiry window never.
 * - When recent placements make every other carrier look full (a burst, before heartbeats show them), the
 *   carriers are ranked by their own reports alone, before the source is named: the relay is the hard bound.
 */
export interface PlacementInput {
  sourceNodeId: string;
  /** The stream's bit rate; null while unknown (judged as ASSUMED_BITRATE_BPS). */
  bitrateBps: number | null;
  carriers: readonly CarrierState[];
  /** Upload of recent placements per node that its heartbeats do not show yet. */
  pendingBps: (nodeId: string) => number;
  exclude: ReadonlySet<string>;
  limit: number;
  now: number;
  expiryMs: number;
  /** In [0, 1): breaks ties. */
  random: () => number;
}

export interface RankedCarrier {
  carrier: CarrierState;
  source: boolean;
  /** Free upload after this viewer; null for an unlimited node. */
  freeBps: number | null;
}

export type PlacementRefusal = 'no-carrier' | 'all-excluded' | 'no-room';

export type PlacementResult =
  { ok: true; candidates: RankedCarrier[]; sourceOnly: boolean } | { ok: false; reason: PlacementRefusal };

/** What a refusal means, for the 503 body: what to do about it. */
export const PLACEMENT_REFUSALS: Record<PlacementRefusal, string> = {
  'no-carrier': 'no node carries the stream now; retry in a few seconds',
  'all-excluded': 'every node that carries the stream was excluded; retry without exclude in a few seconds',
  'no-room':
    'every node that carries the stream is at its upload limit; retry in a few seconds (seeders may add capacity)',
};

export function placeViewer(input: PlacementInput): PlacementResult {
  const rate = input.bitrateBps ?? ASSUMED_BITRATE_BPS;
  const alive = input.carriers.filter((c) => isAlive(c, input.now, input.expiryMs));
  if (alive.length === 0) return { ok: false, reason: 'no-carrier' };
  const eligible = alive.filter((c) => !input.exclude.has(c.nodeId));
  if (eligible.length === 0) return { ok: false, reason: 'all-excluded' };
  const isSource = (c: CarrierState) => c.nodeId === input.sourceNodeId;
  const others = eligible.filter((c) => !isSource(c));
  const source = eligible.filter(isSource);
  // With recent placements counted, then (during a burst, when they make every node look full) by the
  // nodes' own reports alone: the relay is the hard bound and sends a player it cannot take back here.
  const counted = (c: CarrierState) => input.pendingBps(c.nodeId);
  const reported = () => 0;
  for (const pass of [
    { carriers: others, pending: counted },
    { carriers: others, pending: reported },
    { carriers: source, pending: counted },
    { carriers: source, pending: reported },
  ]) {
    const ranked = rankWithRoom(pass.carriers, rate, pass.pending, input);
    if (ranked.length > 0) return { ok: true, candidates: ranked, sourceOnly: pass.carriers === source };
  }
  return { ok: false, reason: 'no-room' };
}

/** The carriers with room for one more viewer at `rate`, most room (in whole viewers) first, then fewer hops. */
function rankWithRoom(
  carriers: readonly CarrierState[],
  rate: number,
  pendingBps: (c: CarrierState) => number,
  input: PlacementInput,
): RankedCarrier[] {
  const keyed = carriers
    .map((carrier) => ({ carrier, free: freeOf(carrier, rate, pendingBps(carrier)) }))
    .filter((x) => x.free >= rate)
    .map((x) => ({ ...x, slots: Math.floor(x.free / rate), tie: input.random() }));
  keyed.sort((a, b) =>
    a.slots !== b.slots ? b.slots - a.slots : a.carrier.hops - b.carrier.hops || a.tie - b.tie,
  );
  return keyed.slice(0, input.limit).map((x) => ({
    carrier: x.carrier,
    source: x.carrier.nodeId === input.sourceNodeId,
    freeBps: Number.isFinite(x.free) ? x.free - rate : null,
  }));
}
