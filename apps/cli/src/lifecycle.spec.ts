import { DEFAULT_BACKOFF, restartDelay } from './lifecycle';

describe('restartDelay', () => {
  it('starts at 500 ms and doubles after each quick failure, up to 30 s', () => {
    const delays: number[] = [];
    let failures = 0;
    for (let i = 0; i < 10; i++) {
      const next = restartDelay(failures, 1000);
      delays.push(next.delayMs);
      failures = next.failures;
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
    expect(failures).toBe(10);
  });

  it('a run of 60 s or more resets the backoff; 59.9 s does not', () => {
    expect(restartDelay(6, 60_000)).toEqual({ delayMs: 500, failures: 1 });
    expect(restartDelay(6, 59_900)).toEqual({ delayMs: 30_000, failures: 7 });
    expect(restartDelay(2, 59_900)).toEqual({ delayMs: 2000, failures: 3 });
  });

  it('stays bounded for absurd failure counts and follows a custom policy', () => {
    expect(restartDelay(10_000, 0).delayMs).toBe(DEFAULT_BACKOFF.maxMs);
    expect(restartDelay(-3, 0)).toEqual({ delayMs: 500, failures: 1 });
    expect(restartDelay(3, 10, { initialMs: 100, maxMs: 500, resetAfterMs: 5 })).toEqual({
      delayMs: 100,
      failures: 1,
    });
    expect(restartDelay(2, 1, { initialMs: 100, maxMs: 350, resetAfterMs: 5 })).toEqual({
      delayMs: 350,
      failures: 3,
    });
  });
});
