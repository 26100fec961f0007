import fc from 'fast-check';
import { CarrierState } from '../streams/carrier-state';
import { PendingPlacements } from './pending-placements';
import { PlacementInput, placeViewer } from './placement';

const NOW = 1_000_000;
const MBIT = 1_000_000;
const SOURCE = 'source';

const carrier = (nodeId: string, over: Partial<CarrierState> = {}): CarrierState => ({
  streamId: 's',
  nodeId,
  hops: nodeId === SOURCE ? 0 : 1,
  upstreamNodeId: nodeId === SOURCE ? null : SOURCE,
  players: 0,
  localPlayers: 0,
  forwards: 0,
  bitrateBps: MBIT,
  width: null,
  height: null,
  reportedAt: NOW,
  uploadLimitBps: 3 * MBIT,
  committedBps: 0,
  nodeForwards: 0,
  lastSeenAt: NOW,
  lastReportAt: NOW,
  host: '10.0.0.1',
  rtmpPort: 1935,
  httpPort: 8000,
  ...over,
});

const input = (carriers: CarrierState[], over: Partial<PlacementInput> = {}): PlacementInput => ({
  sourceNodeId: SOURCE,
  bitrateBps: MBIT,
  carriers,
  pendingBps: () => 0,
  exclude: new Set(),
  limit: 3,
  now: NOW,
  expiryMs: 7000,
  random: Math.random,
  ...over,
});

const ids = (r: ReturnType<typeof placeViewer>): string[] =>
  r.ok ? r.candidates.map((c) => c.carrier.nodeId) : [];

describe(placeViewer.name, () => {
  it('never offers the source while another carrier has room, and offers it when the others are full', () => {
    const withRoom = placeViewer(input([carrier(SOURCE), carrier('a')]));
    expect(ids(withRoom)).toEqual(['a']);
    const full = placeViewer(input([carrier(SOURCE), carrier('a', { committedBps: 2.5 * MBIT })]));
    expect(full).toMatchObject({ ok: true, sourceOnly: true });
    expect(ids(full)).toEqual([SOURCE]);
  });

  it('in a burst that makes the other carriers look full, ranks them by their own reports before the source', () => {
    const carriers = [carrier(SOURCE), carrier('a', { committedBps: MBIT }), carrier('b')];
    // Placements not yet in a heartbeat: 2.5 viewers' worth on each, which makes both look full.
    const burst = placeViewer(input(carriers, { pendingBps: (id) => (id === SOURCE ? 0 : 2.5 * MBIT) }));
    expect(burst).toMatchObject({ ok: true, sourceOnly: false });
    expect(ids(burst)).toEqual(['b', 'a']); // b has more room by its report
    // Its twin: carriers full by their own reports leave the source.
    const full = placeViewer(
      input(
        [
          carrier(SOURCE),
          carrier('a', { committedBps: 2.5 * MBIT }),
          carrier('b', { committedBps: 3 * MBIT }),
        ],
        {
          pendingBps: (id) => (id === SOURCE ? 0 : 2 * MBIT),
        },
      ),
    );
    expect(ids(full)).toEqual([SOURCE]);
  });

  it('refuses (no-room) when every carrier is full, and places when one byte more would fit', () => {
    const full = [carrier(SOURCE, { committedBps: 3 * MBIT }), carrier('a', { committedBps: 2 * MBIT + 1 })];
    expect(placeViewer(input(full))).toEqual({ ok: false, reason: 'no-room' });
    const justFits = [carrier(SOURCE, { committedBps: 3 * MBIT }), carrier('a', { committedBps: 2 * MBIT })];
    expect(ids(placeViewer(input(justFits)))).toEqual(['a']);
  });

  it('ranks most room first, then fewer hops; an unlimited node has the most room', () => {
    const r = placeViewer(
      input([
        carrier(SOURCE),
        carrier('one-slot-near', { committedBps: 2 * MBIT, hops: 1 }),
        carrier('two-slots-far', { committedBps: 1 * MBIT, hops: 3 }),
        carrier('two-slots-near', { committedBps: 1 * MBIT, hops: 2 }),
        carrier('unlimited', { uploadLimitBps: null, hops: 5 }),
      ]),
    );
    expect(ids(r)).toEqual(['unlimited', 'two-slots-near', 'two-slots-far']);
    expect(r.ok && r.candidates.map((c) => c.freeBps)).toEqual([null, MBIT, MBIT]);
  });

  it('never offers an excluded node or one silent for the expiry window; says which refusal applies', () => {
    const cs = [carrier(SOURCE), carrier('a'), carrier('silent', { lastSeenAt: NOW - 7001 })];
    expect(ids(placeViewer(input(cs, { exclude: new Set(['a']) })))).toEqual([SOURCE]);
    expect(ids(placeViewer(input(cs)))).toEqual(['a']);
    expect(placeViewer(input(cs, { exclude: new Set(['a', SOURCE]) }))).toEqual({
      ok: false,
      reason: 'all-excluded',
    });
    expect(placeViewer(input([carrier('silent', { lastSeenAt: NOW - 7001 })]))).toEqual({
      ok: false,
      reason: 'no-carrier',
    });
  });

  it('estimates the commitment of a node that reports none from its forwards', () => {
    const cs = [carrier(SOURCE), carrier('a', { committedBps: null, nodeForwards: 3 })];
    expect(ids(placeViewer(input(cs)))).toEqual([SOURCE]);
    expect(
      ids(placeViewer(input([carrier(SOURCE), carrier('a', { committedBps: null, nodeForwards: 2 })]))),
    ).toEqual(['a']);
  });

  it('spreads a burst: placements not yet in heartbeats count against free capacity', () => {
    const pending = new PendingPlacements();
    const cs = ['a', 'b', 'c', 'd'].map((id) => carrier(id, { uploadLimitBps: 25 * MBIT }));
    const counts = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const r = placeViewer(
        input([carrier(SOURCE), ...cs], { pendingBps: (id) => pending.pendingBps(id, NOW - 10, NOW) }),
      );
      expect(r.ok).toBe(true);
      const first = ids(r)[0];
      pending.record(first, MBIT, NOW);
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    expect([...counts.values()].sort()).toEqual([25, 25, 25, 25]);
    // Room for 100 taken by placements their heartbeats do not show yet: the next is ranked by the nodes' own
    // reports, not sent to the source (a relay that is really full sends the player back, excluding itself).
    const next = placeViewer(
      input([carrier(SOURCE), ...cs], { pendingBps: (id) => pending.pendingBps(id, NOW - 10, NOW) }),
    );
    expect(next).toMatchObject({ ok: true, sourceOnly: false });
    expect(ids(next)).not.toContain(SOURCE);
    // Once the heartbeats show the 100 (25 each), the nodes are full: the source.
    const reported = cs.map((c) => ({ ...c, committedBps: 25 * MBIT }));
    expect(ids(placeViewer(input([carrier(SOURCE), ...reported])))).toEqual([SOURCE]);
  });

  it('whatever the carriers, offers only live, unexcluded nodes with room, and the source only alone', () => {
    const arb = fc.array(
      fc.record({
        limit: fc.option(fc.integer({ min: 0, max: 10 * MBIT }), { nil: null }),
        committed: fc.integer({ min: 0, max: 12 * MBIT }),
        silentMs: fc.integer({ min: 0, max: 20_000 }),
        excluded: fc.boolean(),
        hops: fc.integer({ min: 0, max: 5 }),
      }),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(arb, fc.integer({ min: 1, max: 8 }), (specs, limit) => {
        const cs = specs.map((s, i) =>
          carrier(i === 0 ? SOURCE : `n${i}`, {
            uploadLimitBps: s.limit,
            committedBps: s.committed,
            lastSeenAt: NOW - s.silentMs,
            hops: s.hops,
          }),
        );
        const exclude = new Set(cs.filter((_, i) => specs[i].excluded).map((c) => c.nodeId));
        const r = placeViewer(input(cs, { exclude, limit }));
        if (!r.ok) return;
        expect(r.candidates.length).toBeLessThanOrEqual(limit);
        for (const c of r.candidates) {
          expect(exclude.has(c.carrier.nodeId)).toBe(false);
          expect(c.carrier.lastSeenAt).toBeGreaterThanOrEqual(NOW - 7000);
          expect(c.freeBps === null || c.freeBps >= 0).toBe(true);
        }
        if (r.candidates.some((c) => c.source)) expect(r.candidates).toHaveLength(1);
      }),
    );
  });
});

describe(PendingPlacements.name, () => {
  it('counts a placement until a heartbeat at least the grace later, or until it is too old', () => {
    const sut = new PendingPlacements(1500, 10_000);
    sut.record('a', MBIT, NOW);
    expect(sut.pendingBps('a', NOW - 100, NOW + 100)).toBe(MBIT);
    expect(sut.pendingBps('a', NOW + 1000, NOW + 1100)).toBe(MBIT);
    expect(sut.pendingBps('a', NOW + 1500, NOW + 1600)).toBe(0);
    expect(sut.pendingBps('a', null, NOW + 10_001)).toBe(0);
    expect(sut.pendingBps('b', null, NOW)).toBe(0);
  });

  it('stays bounded however many placements it records', () => {
    const sut = new PendingPlacements(1500, 10_000, 500, 100);
    for (let i = 0; i < 10_000; i++) sut.record(`n${i % 50}`, MBIT, NOW + i);
    expect(sut.size).toBeLessThanOrEqual(500);
    for (let i = 0; i < 1000; i++) sut.record(`m${i}`, MBIT, NOW + 100_000 + i);
    expect(sut.size).toBeLessThanOrEqual(500);
  });
});
