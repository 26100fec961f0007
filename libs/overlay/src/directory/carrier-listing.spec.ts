import fc from 'fast-check';
import { admitsForward } from '../headroom';
import { LISTED_CARRIERS, ListableCarrier, listedCarriers } from './carrier-listing';

const MBIT = 1_000_000;
const c = (
  nodeId: string,
  hops: number,
  uploadLimitBps: number | null,
  committedBps = 0,
): ListableCarrier => ({
  nodeId,
  hops,
  uploadLimitBps,
  committedBps,
});

describe(listedCarriers.name, () => {
  it.each([
    [
      'lists fewest hops first, keeping the order among equal hops',
      [c('b', 1, null), c('a', 0, null), c('c', 1, null)],
      ['a', 'b', 'c'],
    ],
    [
      'leaves out a carrier with no room for one more',
      [c('full', 0, 2 * MBIT, 2 * MBIT), c('room', 1, 2 * MBIT, MBIT)],
      ['room'],
    ],
    [
      'leaves out a node that never forwards',
      [c('zero', 0, 0), c('unlimited', 3, null, 50 * MBIT)],
      ['unlimited'],
    ],
    [
      'counts exactly one more stream: committed + bit rate may equal the limit',
      [c('edge', 2, 3 * MBIT, 2 * MBIT)],
      ['edge'],
    ],
    ['lists nobody when everybody is full', [c('a', 0, MBIT, MBIT), c('b', 1, 0)], []],
  ])('%s', (_what, carriers, expected) => {
    expect(listedCarriers(carriers, MBIT).map((x) => x.nodeId)).toEqual(expected);
  });

  it('holds at most LISTED_CARRIERS (32) by default, the nearest the source', () => {
    const many = Array.from({ length: 100 }, (_, i) => c(`n${i}`, 99 - i, null));
    const listed = listedCarriers(many, MBIT);
    expect(listed).toHaveLength(LISTED_CARRIERS);
    expect(listed[0].hops).toBe(0);
    expect(listed[31].hops).toBe(31);
  });

  it('property: bounded, only carriers with room, sorted by hops, and no carrier with room is skipped for a deeper one', () => {
    const carrier = fc.record({
      nodeId: fc.uuid(),
      hops: fc.nat(20),
      uploadLimitBps: fc.option(fc.nat(10 * MBIT), { nil: null }),
      committedBps: fc.nat(10 * MBIT),
    });
    fc.assert(
      fc.property(
        fc.array(carrier, { maxLength: 80 }),
        fc.integer({ min: 1, max: 40 }),
        (carriers, limit) => {
          const listed = listedCarriers(carriers, MBIT, limit);
          expect(listed.length).toBeLessThanOrEqual(limit);
          for (const x of listed) expect(admitsForward(x.uploadLimitBps, x.committedBps, MBIT)).toBe(true);
          for (let i = 1; i < listed.length; i++)
            expect(listed[i].hops).toBeGreaterThanOrEqual(listed[i - 1].hops);
          const open = carriers.filter((x) => admitsForward(x.uploadLimitBps, x.committedBps, MBIT));
          expect(listed.length).toBe(Math.min(limit, open.length));
          const deepest = listed.length ? listed[listed.length - 1].hops : -1;
          const left = open.filter((x) => !listed.includes(x));
          if (listed.length === limit) for (const x of left) expect(x.hops).toBeGreaterThanOrEqual(deepest);
        },
      ),
    );
  });
});
