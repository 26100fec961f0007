import { CarrierState, deriveStreamStats, STARVED_WINDOW_MS } from './carrier-state';

const NOW = 5_000_000;
const MBIT = 1_000_000;
const EXPIRY = 7000;

const carrier = (nodeId: string, over: Partial<CarrierState> = {}): CarrierState => ({
  streamId: 's',
  nodeId,
  hops: 1,
  upstreamNodeId: 'src',
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

const live = { status: 'live', bitrateBps: null, sourceNodeId: 'src', starvedAt: null };
const src = (over: Partial<CarrierState> = {}): CarrierState =>
  carrier('src', { hops: 0, upstreamNodeId: null, width: 1280, height: 720, bitrateBps: 2 * MBIT, ...over });

describe(deriveStreamStats.name, () => {
  it("sums players over carriers, takes the size and bit rate from the source's report", () => {
    const stats = deriveStreamStats(
      live,
      [
        src({ players: 1, localPlayers: 1, uploadLimitBps: 10 * MBIT }),
        carrier('a', { players: 3, uploadLimitBps: 10 * MBIT, width: 1, height: 1 }),
      ],
      NOW,
      EXPIRY,
    );
    expect(stats).toEqual({
      viewers: 5,
      carriers: 2,
      width: 1280,
      height: 720,
      bitrateBps: 2 * MBIT,
      freeCapacityBps: 20 * MBIT,
      needsCapacity: false,
    });
  });

  it('prefers the announced bit rate; null when nobody measured it', () => {
    expect(deriveStreamStats({ ...live, bitrateBps: 900_000 }, [src()], NOW, EXPIRY).bitrateBps).toBe(
      900_000,
    );
    expect(deriveStreamStats(live, [src({ bitrateBps: null })], NOW, EXPIRY).bitrateBps).toBeNull();
  });

  it('floors each carrier at 0 free, and is null when a carrier is unlimited', () => {
    const over = deriveStreamStats(
      live,
      [src({ committedBps: 9 * MBIT }), carrier('a', { committedBps: MBIT })],
      NOW,
      EXPIRY,
    );
    expect(over.freeCapacityBps).toBe(2 * MBIT);
    expect(
      deriveStreamStats(live, [src(), carrier('a', { uploadLimitBps: null })], NOW, EXPIRY).freeCapacityBps,
    ).toBeNull();
  });

  it('needs capacity when the carriers have room for fewer than 2 more viewers; the twin with room for 2 does not', () => {
    // 2 Mbit/s stream: 3.9 Mbit/s free in total is room for one viewer per node, 1 + 0 = 1.
    const tight = [src({ committedBps: MBIT }), carrier('a', { committedBps: 1.1 * MBIT })];
    expect(deriveStreamStats(live, tight, NOW, EXPIRY).needsCapacity).toBe(true);
    const room = [src({ committedBps: MBIT }), carrier('a', { committedBps: MBIT })];
    expect(deriveStreamStats(live, room, NOW, EXPIRY).needsCapacity).toBe(false);
    expect(deriveStreamStats({ ...live, status: 'ended' }, tight, NOW, EXPIRY).needsCapacity).toBe(false);
  });

  it('needs capacity for 30 s after a placement starved, and not after', () => {
    const room = [src({ uploadLimitBps: null })];
    expect(deriveStreamStats({ ...live, starvedAt: NOW - 1000 }, room, NOW, EXPIRY).needsCapacity).toBe(true);
    expect(
      deriveStreamStats({ ...live, starvedAt: NOW - STARVED_WINDOW_MS }, room, NOW, EXPIRY).needsCapacity,
    ).toBe(false);
  });

  it('leaves out carriers not heard from within the expiry window, and players of stale reports', () => {
    const stats = deriveStreamStats(
      live,
      [
        src({ players: 2 }),
        carrier('gone', { players: 9, lastSeenAt: NOW - EXPIRY - 1 }),
        carrier('stale', { players: 4, reportedAt: NOW - EXPIRY - 1 }),
      ],
      NOW,
      EXPIRY,
    );
    expect(stats).toMatchObject({ viewers: 2, carriers: 2 });
  });
});
