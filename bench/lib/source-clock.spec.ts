import { wallClockAt } from './source-clock';

describe('wallClockAt', () => {
  const stamps: [number, number][] = [
    [1000, 1_700_000_000_000],
    [2000, 1_700_000_001_010],
  ];

  it('dates a timestamp from the nearest clock stamp', () => {
    expect(wallClockAt(stamps, 1200)).toBe(1_700_000_000_200);
    expect(wallClockAt(stamps, 1900)).toBe(1_700_000_000_910);
    expect(wallClockAt(stamps, 2500)).toBe(1_700_000_001_510);
  });

  it('knows nothing before the first stamp', () => {
    expect(wallClockAt([], 1000)).toBeNull();
  });
});
