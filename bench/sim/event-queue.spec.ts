import { EventQueue, exponential, rng } from './event-queue';

describe('EventQueue', () => {
  it('runs events in time order, ties in insertion order, and advances the clock', () => {
    const q = new EventQueue();
    const seen: string[] = [];
    q.at(30, () => seen.push(`c@${q.now}`));
    q.at(10, () => seen.push(`a@${q.now}`));
    q.at(10, () => seen.push(`b@${q.now}`));
    q.at(20, () => q.after(5, () => seen.push(`d@${q.now}`)));
    q.run();
    expect(seen).toEqual(['a@10', 'b@10', 'd@25', 'c@30']);
    expect(q.eventsRun).toBe(5);
  });

  it('stops at `until` and never schedules into the past', () => {
    const q = new EventQueue();
    const seen: number[] = [];
    q.at(5, () => seen.push(q.now));
    q.at(50, () => seen.push(q.now));
    q.run(20);
    expect(seen).toEqual([5]);
    expect(q.now).toBe(20);
    q.at(1, () => seen.push(q.now));
    q.run();
    expect(seen).toEqual([5, 20, 50]);
  });

  it('orders many random events correctly', () => {
    const q = new EventQueue();
    const r = rng(7);
    const times: number[] = [];
    for (let i = 0; i < 2000; i++) q.at(r() * 1000, () => times.push(q.now));
    q.run();
    expect(times).toHaveLength(2000);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);
  });
});

describe('rng', () => {
  it('is deterministic per seed and has the right exponential mean', () => {
    expect([rng(3)(), rng(3)()]).toEqual([rng(3)(), rng(3)()].slice(0, 1).concat(rng(3)()));
    const r = rng(1);
    let sum = 0;
    for (let i = 0; i < 20000; i++) sum += exponential(r, 10);
    expect(sum / 20000).toBeGreaterThan(9.5);
    expect(sum / 20000).toBeLessThan(10.5);
  });
});
