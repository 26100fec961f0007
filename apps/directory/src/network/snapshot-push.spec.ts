import { SnapshotThrottle, contentHash, snapshotHash } from './snapshot-push';

const snapshot = (nodes: string[], at = '2026-12-01T17:00:00.000Z') => ({
  at,
  nodes: nodes.map((nodeId) => ({ nodeId })),
  streams: [],
  edges: [],
  truncated: false,
});

describe(contentHash.name, () => {
  it('is equal for the same network built at another time', () => {
    expect(contentHash(snapshot(['a', 'b']))).toBe(
      contentHash(snapshot(['a', 'b'], '2026-12-01T18:00:00.000Z')),
    );
  });

  it('differs when a node leaves', () => {
    expect(contentHash(snapshot(['a', 'b']))).not.toBe(contentHash(snapshot(['a'])));
  });

  it('hashes non-objects too', () => {
    expect(contentHash([1, 2])).toBe(snapshotHash('[1,2]'));
    expect(contentHash(undefined)).toHaveLength(22);
  });
});

describe(SnapshotThrottle.name, () => {
  it('broadcasts the first snapshot and then only changes', () => {
    const sut = new SnapshotThrottle(1000);
    expect(sut.decide('h1', 0)).toBe('broadcast');
    expect(sut.decide('h1', 1000)).toBe('unchanged');
    expect(sut.decide('h1', 5000)).toBe('unchanged');
    expect(sut.decide('h2', 6000)).toBe('broadcast');
    expect(sut.lastHash).toBe('h2');
  });

  it('holds a change back until a second after the last broadcast', () => {
    const sut = new SnapshotThrottle(1000);
    expect(sut.decide('h1', 10_000)).toBe('broadcast');
    expect(sut.decide('h2', 10_400)).toBe('throttled');
    expect(sut.waitMs(10_400)).toBe(600);
    expect(sut.decide('h3', 10_999)).toBe('throttled');
    // The held-back change goes once the interval passed (the latest state, not every step in between).
    expect(sut.decide('h3', 11_000)).toBe('broadcast');
    expect(sut.waitMs(11_000)).toBe(1000);
    expect(sut.lastHash).toBe('h3');
  });

  it('counts a change back to an earlier picture as a change', () => {
    const sut = new SnapshotThrottle(1000);
    sut.decide('h1', 0);
    sut.decide('h2', 1000);
    expect(sut.decide('h1', 2000)).toBe('broadcast');
  });

  it('never sends more than once per interval, whatever changes', () => {
    const sut = new SnapshotThrottle(1000);
    const sent: number[] = [];
    for (let t = 0; t < 10_000; t += 100) if (sut.decide(`h${t}`, t) === 'broadcast') sent.push(t);
    expect(sent).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
  });
});
