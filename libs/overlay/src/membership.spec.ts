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

  it('tries the lowest measured RTT among those with room first, whatever order they were listed in', () => {
    const listed = [
      { nodeId: 'a', rttMs: 40, childCount: 0, maxChildren: 3 },
      { nodeId: 'b', rttMs: 7, childCount: 2, maxChildren: 3 },
      { nodeId: 'c', rttMs: 120, childCount: 1, maxChildren: 3 },
      { nodeId: 'seed', rttMs: 15, childCount: 0, maxChildren: null },
    ];
    for (const order of [listed, [...listed].reverse(), [listed[2], listed[0], listed[3], listed[1]]]) {
      expect(orderSupernodeCandidates('me', order).map((c) => c.nodeId)).toEqual(['b', 'seed', 'a', 'c']);
    }
  });

  it('puts a supernode at its cap after every one with room, however close it is, and still tries it last', () => {
    const sut = orderSupernodeCandidates('me', [
      { nodeId: 'at-cap', rttMs: 0.1, childCount: 3, maxChildren: 3 },
      { nodeId: 'over-cap', rttMs: 0.2, childCount: 4, maxChildren: 3 },
      { nodeId: 'room', rttMs: 900, childCount: 2, maxChildren: 3 },
    ]);
    expect(sut.map((c) => c.nodeId)).toEqual(['room', 'at-cap', 'over-cap']);
  });

  it('lists a supernode once, and nothing when only self, excluded or unreachable ones remain', () => {
    const twice = orderSupernodeCandidates('me', [
      { nodeId: 'x', rttMs: 5, childCount: 0, maxChildren: 3 },
      { nodeId: 'x', rttMs: 1, childCount: 0, maxChildren: 3 },
    ]);
    expect(twice.map((c) => c.nodeId)).toEqual(['x']);
    const none = orderSupernodeCandidates(
      'me',
      [
        { nodeId: 'me', rttMs: 0, childCount: 0, maxChildren: 3 },
        { nodeId: 'crashed', rttMs: 1, childCount: 0, maxChildren: 3 },
        { nodeId: 'silent', rttMs: null, childCount: 0, maxChildren: 3 },
      ],
      new Set(['crashed']),
    );
    expect(none).toEqual([]);
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

  it('refuses the member beyond the cap until a member leaves or expires; a lower cap keeps members, admits none', () => {
    const sut = new SupernodeMembers(3, 1000);
    for (const id of ['a', 'b', 'c']) expect(sut.join(id, 'h', 1, 0)).toBe(true);
    expect(sut.join('d', 'h', 1, 0)).toBe(false);
    expect(sut.size).toBe(3);
    expect(sut.leave('b')).toBe(true);
    expect(sut.join('d', 'h', 1, 10)).toBe(true);
    expect(sut.join('e', 'h', 1, 10)).toBe(false);
    sut.heartbeat('a', [], 2500);
    sut.heartbeat('d', [], 2500);
    expect(sut.expire(3100)).toEqual(['c']);
    expect(sut.join('e', 'h', 1, 3100)).toBe(true);
    sut.setMaxChildren(1);
    expect(sut.size).toBe(3);
    expect(sut.join('f', 'h', 1, 3100)).toBe(false);
    expect(sut.join('a', 'h', 1, 3100)).toBe(true);
    expect(sut.ids().sort()).toEqual(['a', 'd', 'e']);
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
