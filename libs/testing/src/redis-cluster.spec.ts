import { Cluster } from 'ioredis';
import { pingRedis } from './redis';
import { RedisClusterHandle, redisCli, startRedisCluster } from './redis-cluster';
import { waitFor } from './wait-for';

/**
 * A real 3-shard Redis Cluster on loopback: sharded pub/sub (SPUBLISH/SSUBSCRIBE) through ioredis's
 * Cluster client reaches every shard, and again after a shard's process is restarted.
 */
describe('startRedisCluster', () => {
  let cluster: RedisClusterHandle | undefined;
  let pub: Cluster | undefined;
  let sub: Cluster | undefined;
  const received: [string, string][] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ shards: 3 });
    const startup = cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
    pub = new Cluster(startup);
    sub = new Cluster(startup, { shardedSubscribers: true });
    // A shard's restart surfaces as 'node error's; nothing here should throw them into the test.
    for (const c of [pub, sub]) c.on('error', () => undefined);
    sub.on('smessage', (channel: string, message: string) => void received.push([channel, message]));
    await Promise.all([waitReady(pub), waitReady(sub)]);
  }, 60_000);

  afterAll(async () => {
    pub?.disconnect();
    sub?.disconnect();
    await cluster?.stop();
  }, 30_000);

  /** One channel per shard: `node.{<n>}.inbox` whose slot the shard's master serves. */
  async function channelPerShard(c: Cluster): Promise<string[]> {
    const byMaster = new Map<string, string>();
    for (let n = 0; byMaster.size < 3 && n < 1000; n++) {
      const channel = `node.{${n}}.inbox`;
      const slot = Number(await c.cluster('KEYSLOT', channel));
      const master = c.slots[slot][0];
      if (!byMaster.has(master)) byMaster.set(master, channel);
    }
    return [...byMaster.values()];
  }

  async function deliversOn(channels: string[], tag: string): Promise<void> {
    await waitFor(
      async () => {
        await Promise.all(channels.map((ch) => pub!.spublish(ch, `${tag}:${ch}`)));
        return channels.every((ch) => received.some(([c, m]) => c === ch && m === `${tag}:${ch}`));
      },
      { timeoutMs: 20_000, intervalMs: 200, what: `sharded messages "${tag}" on every shard` },
    );
  }

  it('starts every node on loopback with the slots split over the masters', async () => {
    expect(cluster!.urls).toHaveLength(3);
    for (const n of cluster!.nodes) expect(await pingRedis(n.port)).toBe(true);
    const info = await redisCli(cluster!.nodes[0].port, 'CLUSTER', 'INFO');
    expect(info).toMatch(/cluster_state:ok/);
    expect(info).toMatch(/cluster_slots_assigned:16384/);
    expect(info).toMatch(/cluster_known_nodes:3/);
  });

  it('delivers SPUBLISH to SSUBSCRIBE on channels of every shard, and again after a shard restarts', async () => {
    const channels = await channelPerShard(sub!);
    expect(channels).toHaveLength(3);
    for (const ch of channels) await sub!.ssubscribe(ch);
    await deliversOn(channels, 'before');

    const restarted = cluster!.nodes[1].port;
    await cluster!.restartShard(1);
    expect(await pingRedis(restarted)).toBe(true);
    // The restarted master kept its node id and slots (nodes.conf), so the same channels live there again.
    expect(await redisCli(restarted, 'CLUSTER', 'INFO')).toMatch(/cluster_state:ok/);
    await deliversOn(channels, 'after');
  }, 60_000);
});

function waitReady(c: Cluster): Promise<void> {
  if (c.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    c.once('ready', () => resolve());
    c.once('end', () => reject(new Error('the Cluster client ended before it was ready')));
  });
}
