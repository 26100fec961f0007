import { simulate } from './simulator';

describe('simulate', () => {
  it('is deterministic for a seed and serves every servable viewer in a small network', () => {
    const a = simulate({ nodes: 300, seed: 5 });
    const b = simulate({ nodes: 300, seed: 5 });
    expect(a.served).toBe(b.served);
    expect(a.depth).toEqual(b.depth);
    expect(a.messages.total).toEqual(b.messages.total);
    expect(a.servedOfServable).toBeGreaterThanOrEqual(0.95);
    // The source uploads at most u_s copies; the rest is carried by viewers.
    expect(a.sourceForwards).toBeLessThanOrEqual(4);
    expect(a.offload).toBeCloseTo(1 - a.sourceForwards / a.viewers);
    expect(a.supernodes).toBeGreaterThanOrEqual(3); // 300 nodes, 100 members per supernode at most
  });

  it('builds a chain when every node forwards exactly one stream and the source one', () => {
    const r = simulate({ nodes: 20, seed: 1, sourceStreams: 1, capacity: () => 1, arrivalsPerS: 1 });
    expect(r.served).toBe(19);
    expect(r.sourceForwards).toBe(1);
    expect(r.depth.max).toBe(19);
  });

  it('serves only what the uplinks allow when nobody forwards', () => {
    const r = simulate({ nodes: 50, seed: 2, sourceStreams: 4, capacity: () => 0 });
    expect(r.servable).toBe(4);
    expect(r.served).toBe(4);
    expect(r.servedOfServable).toBe(1);
  });
});
