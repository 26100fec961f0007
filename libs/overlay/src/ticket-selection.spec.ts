import { candidateOrder, failoverExclusion, selectOffer } from './ticket-selection';
import { admitsForward, headroomAfter } from './headroom';

const offer = (nodeId: string, hops: number, path: string[], headroomBps: number | null = 1000) => ({
  nodeId,
  hops,
  path,
  headroomBps,
});

describe(selectOffer.name, () => {
  it('prefers fewer hops, then lower RTT, then more headroom', () => {
    const offers = [
      offer('b', 2, ['a', 'b'], 5000),
      offer('c', 2, ['a', 'c'], 9000),
      offer('d', 3, ['a', 'b', 'd']),
    ];
    expect(selectOffer('x', offers).chosen?.nodeId).toBe('c');
    expect(
      selectOffer(
        'x',
        offers,
        new Map([
          ['b', 1],
          ['c', 5],
        ]),
      ).chosen?.nodeId,
    ).toBe('b');
    expect(selectOffer('x', [offer('d', 3, []), offer('e', 1, [])]).chosen?.nodeId).toBe('e');
  });

  it('never takes a ticket from its own descendant', () => {
    const sut = selectOffer('b', [offer('d', 3, ['a', 'b', 'd']), offer('c', 2, ['a', 'c'])]);
    expect(sut.chosen?.nodeId).toBe('c');
    expect(sut.rejected.map((o) => o.nodeId)).toEqual(['d']);
  });

  it('takes the source only when no other node offers', () => {
    const offers = [
      offer('src', 1, ['src']),
      offer('b', 2, ['src', 'b'], 10),
      offer('c', 3, ['src', 'b', 'c']),
    ];
    const sut = selectOffer('x', offers, new Map([['src', 0.1]]), new Set(), 'src');
    expect(sut.chosen?.nodeId).toBe('b');
    expect(sut.rejected.map((o) => o.nodeId)).toEqual(['src', 'c']);
    expect(selectOffer('c', offers, new Map(), new Set(), 'src').chosen?.nodeId).toBe('b');
    expect(selectOffer('b', offers, new Map(), new Set(), 'src').chosen?.nodeId).toBe('src');
    expect(selectOffer('x', offers, new Map(), new Set(['b', 'c']), 'src').chosen?.nodeId).toBe('src');
  });

  it('returns no choice when every offer would loop or is excluded', () => {
    const sut = selectOffer(
      'b',
      [offer('d', 3, ['a', 'b', 'd']), offer('c', 2, ['a', 'c'])],
      new Map(),
      new Set(['c']),
    );
    expect(sut.chosen).toBeNull();
    expect(sut.rejected).toHaveLength(2);
  });
});

describe(candidateOrder.name, () => {
  it('asks carriers first, then supernodes, then the source, without duplicates or self', () => {
    expect(
      candidateOrder(
        'me',
        [
          { nodeId: 'c', hops: 2 },
          { nodeId: 'src', hops: 0 },
          { nodeId: 'b', hops: 1 },
          { nodeId: 'me', hops: 1 },
        ],
        ['s1', 'b'],
        'src',
      ),
    ).toEqual(['b', 'c', 's1', 'src']);
  });

  it('leaves out excluded nodes, including a lost source', () => {
    expect(candidateOrder('me', [{ nodeId: 'b', hops: 1 }], [], 'src', new Set(['b', 'src']))).toEqual([]);
  });
});

describe(admitsForward.name, () => {
  it('admits while committed + bitrate fits the limit', () => {
    expect(admitsForward(1_500_000, 0, 1_000_000)).toBe(true);
    expect(admitsForward(1_500_000, 1_000_000, 1_000_000)).toBe(false);
    expect(admitsForward(null, 100_000_000, 1_000_000)).toBe(true);
    expect(admitsForward(0, 0, 1)).toBe(false);
    expect(headroomAfter(2_500_000, 1_000_000, 1_000_000)).toBe(500_000);
    expect(headroomAfter(null, 1, 1)).toBeNull();
  });
});

describe(failoverExclusion.name, () => {
  it('leaves out the lost upstream on the first attempt only, and never the source', () => {
    expect([...failoverExclusion('b', 'src', true)]).toEqual(['b']);
    expect([...failoverExclusion('b', 'src', false)]).toEqual([]);
    expect([...failoverExclusion('src', 'src', true)]).toEqual([]);
    expect([...failoverExclusion(null, 'src', true)]).toEqual([]);
  });
});
