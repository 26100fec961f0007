import fc from 'fast-check';
import { WriteBatcher, splitRounds } from './write-batcher';

describe('WriteBatcher', () => {
  it('writes the items of one window in one flush, each with its own result', async () => {
    const flushes: string[][] = [];
    const b = new WriteBatcher<string, string>(
      (items) => {
        flushes.push(items);
        return Promise.resolve(items.map((i) => (i === 'bad' ? new Error('refused bad') : i.toUpperCase())));
      },
      (i) => i,
      5,
    );
    const results = await Promise.allSettled(['a', 'b', 'bad', 'c'].map((i) => b.submit(i)));
    expect(flushes).toEqual([['a', 'b', 'bad', 'c']]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'A',
      'B',
      'refused bad',
      'C',
    ]);
  });

  it('puts a key seen twice in one window into a second round, in order', async () => {
    const flushes: string[][] = [];
    const b = new WriteBatcher<string, string>(
      (items) => (flushes.push(items), Promise.resolve(items)),
      (i) => i.split(':')[0],
    );
    await Promise.all(['n1:1', 'n2:1', 'n1:2', 'n1:3'].map((i) => b.submit(i)));
    expect(flushes).toEqual([['n1:1', 'n2:1'], ['n1:2'], ['n1:3']]);
  });

  it('flushes at maxBatch without waiting for the window, and fails a round whose flush throws', async () => {
    let flushes = 0;
    const b = new WriteBatcher<number, number>(
      (items) => {
        flushes++;
        return items.includes(-1)
          ? Promise.reject(new Error('database unreachable'))
          : Promise.resolve(items);
      },
      String,
      60_000,
      3,
    );
    await expect(Promise.all([1, 2, 3].map((i) => b.submit(i)))).resolves.toEqual([1, 2, 3]);
    await expect(Promise.all([4, 5, -1].map((i) => b.submit(i)))).rejects.toThrow('database unreachable');
    expect(flushes).toBe(2);
  });

  it('runs at most `concurrency` flushes at once', async () => {
    let running = 0;
    let most = 0;
    const b = new WriteBatcher<number, number>(
      async (items) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return items;
      },
      String,
      1,
      1,
      () => undefined,
      2,
    );
    const results: Promise<number>[] = [];
    for (const i of [1, 2, 3, 4, 5]) {
      results.push(b.submit(i));
      await new Promise((r) => setTimeout(r, 4)); // each its own window
    }
    await expect(Promise.all(results)).resolves.toEqual([1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });

  it('splits into rounds that hold every item once and each key at most once per round', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 })), (keys) => {
        const items = keys.map((k, i) => ({ k: String(k), i }));
        const rounds = splitRounds(items, (x) => x.k);
        expect(
          rounds
            .flat()
            .map((x) => x.i)
            .sort((a, b) => a - b),
        ).toEqual(items.map((x) => x.i));
        for (const r of rounds) expect(new Set(r.map((x) => x.k)).size).toBe(r.length);
        // A key's items keep their order across rounds.
        const order = rounds
          .flat()
          .filter((x) => x.k === '0')
          .map((x) => x.i);
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }),
    );
  });
});
