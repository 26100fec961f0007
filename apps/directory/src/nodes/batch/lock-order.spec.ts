import fc from 'fast-check';
import { inLockOrder } from './lock-order';

describe('inLockOrder', () => {
  it('sorts by key and puts results back in the original order', () => {
    const items = [{ id: 'c' }, { id: 'a' }, { id: 'b' }];
    const { sorted, restore } = inLockOrder(items, (i) => i.id);
    expect(sorted.map((i) => i.id)).toEqual(['a', 'b', 'c']);
    expect(restore(sorted.map((i) => `r-${i.id}`))).toEqual(['r-c', 'r-a', 'r-b']);
  });

  it('for any round: sorted is ordered, and restore(f(sorted)) = f(items)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.uuid()), (ids) => {
        const { sorted, restore } = inLockOrder(ids, (id) => id);
        for (let i = 1; i < sorted.length; i++) expect(sorted[i - 1] < sorted[i]).toBe(true);
        expect(restore(sorted.map((id) => id.toUpperCase()))).toEqual(ids.map((id) => id.toUpperCase()));
      }),
    );
  });
});
