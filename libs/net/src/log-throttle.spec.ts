import { LogThrottle } from './log-throttle';

describe('LogThrottle', () => {
  it('logs the first event, stays quiet within the window, then reports how many it passed over', () => {
    const t = new LogThrottle(1000);
    expect(t.take('k', 0)).toBe(0);
    expect(t.take('k', 10)).toBeNull();
    expect(t.take('k', 500)).toBeNull();
    expect(t.take('other', 500)).toBe(0);
    expect(t.take('k', 1000)).toBe(2);
    expect(t.take('k', 1001)).toBeNull();
  });

  it('stays bounded under a flood of distinct keys', () => {
    const t = new LogThrottle(1000, 10);
    for (let i = 0; i < 1000; i += 1) expect(t.take(`k${i}`, 5)).toBe(0);
    expect((t as unknown as { seen: Map<string, unknown> }).seen.size).toBeLessThanOrEqual(10);
  });
});
