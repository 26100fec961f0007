import { ASSUMED_BITRATE_BPS, CarrierState, freeOf, isAlive } from '../streams/carrier-state';

/**
 * Where one viewer should play a stream: the stream's carriers ranked for it. Pure.
 *
 * - A node is offered only with free upload (limit − committed − placements not yet in its heartbeats) of at
 *   least the stream's bit rate; an unlimited node always has room.
 * - Most room first, counted in viewers' worth (whole bit rates) so that nodes with about the same room tie; then
 *   fewer hops; then at random, so that equal nodes share a burst.
 * - The source only when no other carrier has room; excluded nodes never; nodes silent for the expiry window never.
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
  const withRoom = eligible
    .map((carrier) => ({ carrier, free: freeOf(carrier, rate, input.pendingBps(carrier.nodeId)) }))
    .filter((x) => x.free >= rate);
  const rank = (x: { carrier: CarrierState; free: number }): RankedCarrier => ({
    carrier: x.carrier,
    source: x.carrier.nodeId === input.sourceNodeId,
    freeBps: Number.isFinite(x.free) ? x.free - rate : null,
  });
  const others = withRoom.filter((x) => x.carrier.nodeId !== input.sourceNodeId);
  if (others.length > 0) {
    const keyed = others.map((x) => ({ ...x, slots: Math.floor(x.free / rate), tie: input.random() }));
    keyed.sort((a, b) =>
      a.slots !== b.slots ? b.slots - a.slots : a.carrier.hops - b.carrier.hops || a.tie - b.tie,
    );
    return { ok: true, candidates: keyed.slice(0, input.limit).map(rank), sourceOnly: false };
  }
  const source = withRoom.find((x) => x.carrier.nodeId === input.sourceNodeId);
  if (source) return { ok: true, candidates: [rank(source)], sourceOnly: true };
  return { ok: false, reason: 'no-room' };
}
