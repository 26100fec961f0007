import { NodeEntity } from './node.entity';
import { SupernodeCache } from './supernode-cache';

const node = (nodeId: string, host: string, supernode = true): NodeEntity =>
  Object.assign(new NodeEntity(), { nodeId, host, supernode });

describe('SupernodeCache', () => {
  it('reads once per window, shares a read in flight, and reads again after the window', async () => {
    let reads = 0;
    let t = 0;
    const cache = new SupernodeCache(
      () => (reads++, Promise.resolve([node('s1', '10.0.0.1')])),
      1000,
      () => t,
    );
    await Promise.all([cache.get(), cache.get(), cache.get()]);
    expect(reads).toBe(1);
    t = 999;
    await cache.get();
    expect(reads).toBe(1);
    t = 1000;
    await cache.get();
    expect(reads).toBe(2);
  });

  it("is kept fresh by this replica's writes", async () => {
    let reads = 0;
    const cache = new SupernodeCache(() => (reads++, Promise.resolve([node('s1', '10.0.0.1')])), 60_000);
    await cache.get();
    cache.saw(node('s1', '10.0.0.9'));
    expect((await cache.get())[0].host).toBe('10.0.0.9');
    cache.saw(node('n2', '10.0.0.2', false)); // an ordinary node: the list stands
    expect(reads).toBe(1);
    await cache.get();
    expect(reads).toBe(1);
    cache.saw(node('s1', '10.0.0.9', false)); // demoted by a write: read again
    await cache.get();
    expect(reads).toBe(2);
    cache.invalidate();
    await cache.get();
    expect(reads).toBe(3);
  });
});
