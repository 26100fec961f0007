import { tokenNeedsRefresh } from './tickets.service';

describe(tokenNeedsRefresh.name, () => {
  it('refreshes a token once it is past half its life (and one never signed)', () => {
    const ttl = 60_000;
    expect(tokenNeedsRefresh(100_000 + ttl, ttl, 100_000)).toBe(false);
    expect(tokenNeedsRefresh(100_000 + ttl, ttl, 100_000 + 29_999)).toBe(false);
    expect(tokenNeedsRefresh(100_000 + ttl, ttl, 100_000 + 30_001)).toBe(true);
    expect(tokenNeedsRefresh(0, ttl, 100_000)).toBe(true);
  });
});
