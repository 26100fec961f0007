import { SupernodeMembers, orderSupernodeCandidates } from './membership';

describe(orderSupernodeCandidates.name, () => {
  it('puts spare capacity first, then the closest; drops self, excluded and unreachable', () => {
    const sut = orderSupernodeCandidates(
      'me',
      [
        { nodeId: 'full-near', rttMs: 1, childCount: 5, maxChildren: 5 },
        { nodeId: 'far', rttMs: 9, childCount: 0, maxChildren: 5 },
        { nodeId: 'near', rttMs: 2, childCount: 4, maxChildren: 5 },
        { nodeId: 'dead', rttMs: null, childCount: 0, maxChildren: 5 },
        { nodeId: 'me', rttMs: 0, childCount: 0, maxChildren: 5 },
        { nodeId: 'gone', rttMs: 1, childCount: 0, maxChildren: 5 },
      ],
      new Set(['gone']),
    );
    expect(sut.map((c) => c.nodeId)).toEqual(['near', 'far', 'full-near']);
  });
});

describe(SupernodeMembers.name, () => {
  it('caps members, keeps a re-joining member, and expires after three missed heartbeats', () => {
    const sut = new SupernodeMembers(2, 1000);
    expect(sut.join('a', 'h', 1, 0)).toBe(true);
    expect(sut.join('b', 'h', 2, 0)).toBe(true);
    expect(sut.join('c', 'h', 3, 0)).toBe(false);
    expect(sut.join('a', 'h', 1, 100)).toBe(true);
    expect(sut.heartbeat('a', [{ streamId: 's1', hops: 2 }], 2500)).toBe(true);
    expect(sut.heartbeat('zzz', [], 2500)).toBe(false);
    expect(sut.expire(3100)).toEqual(['b']);
    expect(sut.ids()).toEqual(['a']);
    expect(sut.carriers('s1')).toEqual([{ nodeId: 'a', hops: 2, host: 'h', forwardPort: 1 }]);
    expect(sut.expire(5600)).toEqual(['a']);
  });

  it('lists carriers nearest the source first', () => {
    const sut = new SupernodeMembers(10, 1000);
    sut.join('x', 'h', 1, 0);
    sut.join('y', 'h', 2, 0);
    sut.heartbeat('x', [{ streamId: 's', hops: 3 }], 1);
    sut.heartbeat('y', [{ streamId: 's', hops: 1 }], 1);
    expect(sut.carriers('s').map((c) => c.nodeId)).toEqual(['y', 'x']);
    expect(sut.carriers('other')).toEqual([]);
  });
});
