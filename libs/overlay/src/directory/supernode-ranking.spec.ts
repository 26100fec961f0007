import { commonPrefixLength, rankSupernodes, RankableSupernode } from './supernode-ranking';

const sn = (
  nodeId: string,
  host: string,
  childCount: number,
  maxChildren: number | null = 10,
): RankableSupernode => ({
  nodeId,
  host,
  childCount,
  maxChildren,
});

describe(rankSupernodes.name, () => {
  it('puts supernodes with spare capacity first, then the closest by hint, then the emptiest', () => {
    const full = sn('a', '10.0.0.2', 10);
    const far = sn('b', '192.168.1.1', 0);
    const nearBusy = sn('c', '10.0.0.3', 5);
    const nearIdle = sn('d', '10.0.0.4', 1);
    const nearest = sn('e', '10.0.1.9', 9);
    const sut = rankSupernodes([full, far, nearBusy, nearIdle, nearest], '10.0.0.7');
    expect(sut.map((s) => s.nodeId)).toEqual(['d', 'c', 'e', 'b', 'a']);
  });

  it('orders by child count without a hint, treats no cap as room, and applies the limit', () => {
    const sut = rankSupernodes(
      [sn('a', 'h', 3), sn('b', 'h', 1), sn('c', 'h', 50, null), sn('d', 'h', 10)],
      undefined,
      3,
    );
    expect(sut.map((s) => s.nodeId)).toEqual(['b', 'a', 'c']);
  });

  it('breaks ties by node id', () => {
    expect(rankSupernodes([sn('b', 'h', 0), sn('a', 'h', 0)]).map((s) => s.nodeId)).toEqual(['a', 'b']);
  });
});

describe(commonPrefixLength.name, () => {
  it.each([
    ['10.1.2.3', '10.1.9.9', 5],
    ['', 'x', 0],
    ['abc', 'abc', 3],
  ])('%s / %s -> %d', (a, b, n) => expect(commonPrefixLength(a, b)).toBe(n));
});
