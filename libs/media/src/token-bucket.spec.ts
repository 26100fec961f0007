import fc from 'fast-check';
import { TokenBucket } from './token-bucket';

const PACKET = 1316;
/** The relay's burst: enough for one video frame at high rates (as UploadBudget sizes it). */
const burstFor = (bps: number): number => Math.max(64 * 1024, Math.round(bps / 8 / 10));

/** A sender that tries one packet every 0.1 ms of simulated time; returns the bytes it got through. */
function simulate(sut: TokenBucket, fromMs: number, toMs: number): number {
  let sent = 0;
  for (let tick = Math.round(fromMs * 10); tick < Math.round(toMs * 10); tick++) {
    if (sut.tryTake(PACKET, tick / 10)) sent += PACKET;
  }
  return sent;
}

describe(TokenBucket.name, () => {
  it.each([1_000_000, 2_500_000, 50_000_000])(
    'holds a greedy sender to %d bit/s within 5%% over 5 s',
    (bps) => {
      const burst = burstFor(bps);
      const sut = new TokenBucket(bps, burst, 0);
      const sent = simulate(sut, 0, 5000);
      const allowed = (bps / 8) * 5;
      // Never more than the burst plus the rate; the sustained rate (after the burst) within 5%.
      expect(sent).toBeLessThanOrEqual(burst + allowed);
      expect(Math.abs((sent - burst) / allowed - 1)).toBeLessThan(0.05);
      // And the rate measured once the initial burst is spent.
      const steady = simulate(sut, 5000, 10_000);
      expect(Math.abs(steady / allowed - 1)).toBeLessThan(0.05);
    },
  );

  it('grants a take after waiting waitMs, and not a millisecond earlier', () => {
    const op = fc.record({ advanceMs: fc.nat({ max: 50 }), bytes: fc.integer({ min: 1, max: 200_000 }) });
    fc.assert(
      fc.property(
        fc.integer({ min: 8_000, max: 1_000_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(op, { maxLength: 30 }),
        fc.integer({ min: 1, max: 200_000 }),
        (bps, burst, ops, bytes) => {
          const sut = new TokenBucket(bps, burst, 0);
          let now = 0;
          for (const o of ops) {
            now += o.advanceMs;
            sut.tryTake(o.bytes, now);
          }
          const wait = sut.waitMs(bytes, now);
          expect(Number.isInteger(wait) && wait >= 0).toBe(true);
          if (wait >= 1) expect(sut.tryTake(bytes, now + wait - 1)).toBe(false);
          expect(sut.tryTake(bytes, now + wait)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('lets one packet larger than the burst through when full, and charges it', () => {
    const sut = new TokenBucket(8000, 1000, 0); // 1 byte/ms
    expect(sut.tryTake(3000, 0)).toBe(true);
    // 3000 taken from 1000: 2000 in debt, repaid at 1 byte/ms before the next 1000 bytes fit.
    expect(sut.tryTake(1000, 2999)).toBe(false);
    expect(sut.waitMs(1000, 2999)).toBe(1);
    expect(sut.tryTake(1000, 3000)).toBe(true);
  });

  it('always allows at an Infinity rate', () => {
    const sut = new TokenBucket(Infinity, 1000, 0);
    for (let i = 0; i < 1000; i++) expect(sut.tryTake(1_000_000, 0)).toBe(true);
    expect(sut.waitMs(1_000_000, 0)).toBe(0);
  });

  it('never allows at rate 0 once the burst is spent', () => {
    const sut = new TokenBucket(0, 3 * PACKET, 0);
    expect([1, 2, 3, 4].map(() => sut.tryTake(PACKET, 0))).toEqual([true, true, true, false]);
    expect(simulate(sut, 0, 1000)).toBe(0);
    expect(sut.waitMs(PACKET, 1000)).toBe(Infinity);
  });

  it('applies setRate from the moment it is called', () => {
    const sut = new TokenBucket(1_000_000, burstFor(1_000_000), 0);
    simulate(sut, 0, 1000);
    sut.setRate(8_000_000, burstFor(8_000_000), 1000);
    expect(sut.rate).toBe(8_000_000);
    const fast = simulate(sut, 1000, 3000);
    expect(Math.abs(fast / 2_000_000 - 1)).toBeLessThan(0.05);
    sut.setRate(Infinity, Infinity, 3000);
    expect(simulate(sut, 3000, 3001)).toBe(10 * PACKET);
    sut.setRate(0, PACKET, 3001);
    expect(simulate(sut, 3001, 4000)).toBe(PACKET);
  });
});

describe('TokenBucket.charge', () => {
  it('takes bytes that were sent anyway, into bounded debt, so the next take waits longer', () => {
    const sut = new TokenBucket(8000, 1000, 0); // 1000 bytes/s, burst 1000
    sut.charge(1500, 0);
    expect(sut.tryTake(1, 0)).toBe(false);
    expect(sut.waitMs(500, 0)).toBe(1000); // 500 in debt, 500 to earn: 1 s
    sut.charge(1_000_000, 0);
    // Debt is bounded by one second of the rate (1000 bytes): 1000 + 500 to earn.
    expect(sut.waitMs(500, 0)).toBe(1500);
  });

  it('is free when unlimited', () => {
    const sut = new TokenBucket(Infinity, Infinity, 0);
    sut.charge(1e9, 0);
    expect(sut.tryTake(1e6, 0)).toBe(true);
  });
});
