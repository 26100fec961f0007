import fc from 'fast-check';
import { TimestampRebaser } from './timestamp-rebaser';

const rebaseAll = (sut: TimestampRebaser, inputs: number[]): number[] => inputs.map((t) => sut.rebase(t));

describe(TimestampRebaser.name, () => {
  it('passes timestamps through unchanged while they run forward', () => {
    const sut = new TimestampRebaser();
    expect(rebaseAll(sut, [0, 40, 40, 80, 2000, 9000])).toEqual([0, 40, 40, 80, 2000, 9000]);
    expect(sut.lastOutput).toBe(9000);
  });

  it('places the first timestamp after discontinuity() one gap after the last output', () => {
    const sut = new TimestampRebaser(5);
    rebaseAll(sut, [1000, 1040, 1080]);
    sut.discontinuity();
    expect(sut.rebase(1120)).toBe(1085);
    expect(rebaseAll(sut, [1160, 1200])).toEqual([1125, 1165]);
    sut.discontinuity();
    expect(sut.rebase(500_000)).toBe(1170);
  });

  it('starts a new timeline after a big backwards jump, keeping the output monotonic', () => {
    const sut = new TimestampRebaser(1, 1000);
    rebaseAll(sut, [0, 5000, 10_000]);
    expect(rebaseAll(sut, [0, 40, 80])).toEqual([10_001, 10_041, 10_081]);
  });

  it('starts a new timeline after a big forwards jump', () => {
    const sut = new TimestampRebaser(1, 1000, 10_000);
    rebaseAll(sut, [0, 40]);
    expect(rebaseAll(sut, [1_000_000, 1_000_040])).toEqual([41, 81]);
  });

  it('clamps small backwards jitter so the output never decreases', () => {
    const sut = new TimestampRebaser(1, 1000);
    expect(rebaseAll(sut, [0, 100, 80, 90, 120, 140])).toEqual([0, 100, 100, 100, 120, 140]);
  });

  it('never lets the output decrease, whatever the inputs and discontinuities', () => {
    const step = fc.oneof(
      fc.record({ discontinuity: fc.constant(true as const) }),
      fc.record({ ts: fc.nat({ max: 0xffffffff }) }),
      fc.record({ delta: fc.integer({ min: -1500, max: 1500 }) }),
    );
    const settings = fc.tuple(fc.nat({ max: 100 }), fc.nat({ max: 5000 }), fc.integer({ min: 1, max: 20_000 }));
    fc.assert(
      fc.property(settings, fc.array(step, { maxLength: 200 }), ([gap, back, fwd], steps) => {
        const sut = new TimestampRebaser(gap, back, fwd);
        let input = 0;
        let last = -Infinity;
        for (const s of steps) {
          if ('discontinuity' in s) {
            sut.discontinuity();
            continue;
          }
          input = 'ts' in s ? s.ts : Math.max(0, input + s.delta);
          const out = sut.rebase(input);
          expect(out).toBeGreaterThanOrEqual(last);
          last = out;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the spacing of a forward-running input exactly, after any discontinuities', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 1, maxLength: 50 }), (start, deltas) => {
        const sut = new TimestampRebaser();
        sut.rebase(123);
        sut.discontinuity();
        let input = start;
        const first = sut.rebase(input);
        expect(first).toBe(124);
        for (const d of deltas) {
          input += d;
          expect(sut.rebase(input)).toBe(first + input - start);
        }
      }),
    );
  });
});
