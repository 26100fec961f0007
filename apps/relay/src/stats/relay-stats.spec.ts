import { nextEgressSample } from './relay-stats';

describe(nextEgressSample.name, () => {
  it('is the bit rate of the bytes granted since the previous sample', () => {
    expect(nextEgressSample({ at: 1000, bytes: 0, bps: 0 }, 2000, 125_000)).toEqual({
      at: 2000,
      bytes: 125_000,
      bps: 1_000_000,
    });
    expect(nextEgressSample({ at: 2000, bytes: 125_000, bps: 1_000_000 }, 2500, 125_000)).toEqual({
      at: 2500,
      bytes: 125_000,
      bps: 0,
    });
    expect(nextEgressSample({ at: 0, bytes: 0, bps: 0 }, 3, 1)).toEqual({ at: 3, bytes: 1, bps: 2667 });
  });

  it('keeps the previous sample when no time has passed', () => {
    const previous = { at: 1000, bytes: 10, bps: 80 };
    expect(nextEgressSample(previous, 1000, 500)).toBe(previous);
    expect(nextEgressSample(previous, 999, 500)).toBe(previous);
  });
});
