import { simulate } from './simulator';

describe('simulate (the shipped machines on a simulated network)', () => {
  it('serves every viewer of a small network, deterministically for a seed', () => {
    const a = simulate({ nodes: 50, seed: 3, settleMs: 15_000, churnMs: 0 });
    expect(a.machineFailures).toBe(0);
    expect(a.served).toBe(a.servable);
    expect(a.depth.max).toBeLessThanOrEqual(a.depth.bound);
    const b = simulate({ nodes: 50, seed: 3, settleMs: 15_000, churnMs: 0 });
    expect([b.served, b.depth, b.messages]).toEqual([a.served, a.depth, a.messages]);
  });
});
