import { isLockConflict, retryOnLockConflict } from './lock-conflict';

const deadlock = Object.assign(new Error('deadlock detected'), { driverError: { code: '40P01' } });
const uniqueViolation = Object.assign(new Error('duplicate key'), { driverError: { code: '23505' } });
const noSleep = { sleep: () => Promise.resolve() };

describe('isLockConflict', () => {
  it.each([
    [deadlock, true],
    [{ code: '40001' }, true],
    [uniqueViolation, false],
    [new Error('connection refused'), false],
    ['40P01', false],
    [null, false],
  ])('%p → %p', (err, expected) => expect(isLockConflict(err)).toBe(expected));
});

describe('retryOnLockConflict', () => {
  it('runs again after a deadlock and returns what the rerun returned', async () => {
    let runs = 0;
    const retried: number[] = [];
    const out = await retryOnLockConflict(
      () => {
        runs++;
        return runs < 3 ? Promise.reject(deadlock) : Promise.resolve('written');
      },
      { ...noSleep, onRetry: (n) => retried.push(n) },
    );
    expect(out).toBe('written');
    expect(runs).toBe(3);
    expect(retried).toEqual([1, 2]);
  });

  it('does not run again after any other error', async () => {
    let runs = 0;
    await expect(
      retryOnLockConflict(() => {
        runs++;
        return Promise.reject(uniqueViolation);
      }, noSleep),
    ).rejects.toBe(uniqueViolation);
    expect(runs).toBe(1);
  });

  it('gives up after its attempts with the last conflict', async () => {
    let runs = 0;
    await expect(
      retryOnLockConflict(
        () => {
          runs++;
          return Promise.reject(deadlock);
        },
        { ...noSleep, attempts: 4 },
      ),
    ).rejects.toBe(deadlock);
    expect(runs).toBe(4);
  });

  it('backs off randomly within a doubling bound', async () => {
    const waits: number[] = [];
    await retryOnLockConflict(
      (() => {
        let n = 0;
        return () => (++n < 4 ? Promise.reject(deadlock) : Promise.resolve(n));
      })(),
      { baseMs: 10, random: () => 0.999, sleep: (ms) => (waits.push(ms), Promise.resolve()) },
    );
    expect(waits).toEqual([9, 19, 39]);
  });
});
