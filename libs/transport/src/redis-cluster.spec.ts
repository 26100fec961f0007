import Redis, { Cluster } from 'ioredis';
import { ClientProxy } from '@nestjs/microservices';
import {
  AgentPatterns,
  RelayPatterns,
  addressed,
  shardedChannel,
  shardedReplyChannel,
} from '@astral/contracts';
import { RedisClusterHandle, redisCli, startRedisCluster, waitFor } from '@astral/testing';
import { grantBusUser } from './acl-admin';
import { busClient } from './bus-client';
import { busConnections } from './bus-connections';
import { CLUSTER_SEEDS, clusterSeeds } from './redis-cluster';
import { redisConnection, redisTransport } from './redis-transport';
import { NodeAddressedRedisServer } from './redis-server';
import { MAX_MESSAGE_BYTES } from './message-screen';
import { request } from './send';

const A = '0a6b3b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const B = '1b7c4c9f-2d3e-4f60-9bac-1d2e3f4a5b6c';

describe('clusterSeeds: a Redis URL names a cluster with ?cluster=1', () => {
  it('reads no cluster from a plain URL, and the seeds from a cluster URL', () => {
    expect(clusterSeeds('redis://127.0.0.1:6379')).toBeNull();
    expect(clusterSeeds('redis://127.0.0.1:6379/2?cluster=0')).toBeNull();
    expect(clusterSeeds('redis://u:p@10.0.0.1:7000?cluster=1&seed=10.0.0.2:7001,10.0.0.3:7002')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '10.0.0.3', port: 7002 },
    ]);
    expect(clusterSeeds('rediss://[::1]:7000?cluster=true&seed=[::1]:7001')).toEqual([
      { host: '::1', port: 7000 },
      { host: '::1', port: 7001 },
    ]);
  });

  it('refuses a database number, a bad seed and a bad flag, saying which', () => {
    expect(() => clusterSeeds('redis://h:7000/3?cluster=1')).toThrow(/only database 0/);
    expect(() => clusterSeeds('redis://h:7000?cluster=1&seed=h')).toThrow(/seed=h is not host:port/);
    expect(() => clusterSeeds('redis://h:7000?cluster=1&seed=h:99999')).toThrow(/not host:port/);
    expect(() => clusterSeeds('redis://h:7000?cluster=yes')).toThrow(/cluster=yes must be 1 or 0/);
  });

  it('puts the seeds into the connection options (and no db), keeping the credentials', () => {
    const plain = redisConnection('redis://u:p@h:7000/2');
    expect(plain).toMatchObject({ host: 'h', port: 7000, username: 'u', password: 'p', db: 2 });
    expect(plain).not.toHaveProperty(CLUSTER_SEEDS);
    const cluster = redisConnection('redis://u:p@h:7000?cluster=1');
    expect(cluster).toMatchObject({
      username: 'u',
      password: 'p',
      [CLUSTER_SEEDS]: [{ host: 'h', port: 7000 }],
    });
    expect(cluster).not.toHaveProperty('db');
  });
});

const listen = (server: NodeAddressedRedisServer) =>
  new Promise<void>((resolve, reject) =>
    server.listen((err?: unknown) => (err instanceof Error ? reject(err) : resolve())),
  );

/**
 * The bus on a real Redis Cluster of 5 shards on loopback: two nodes, each with its ACL user granted on every
 * cluster node, their Nest servers and clients on Cluster clients. Requests flow both ways, the sender
 * checks hold, and a restarted shard heals.
 */
/** More shards than the connections a process may hold, so that one per master would show. */
const SHARDS = 5;

describe(`the bus on a ${SHARDS}-shard Redis Cluster`, () => {
  let cluster: RedisClusterHandle;
  const servers: NodeAddressedRedisServer[] = [];
  const clients = new Map<string, ClientProxy>();
  const urls = new Map<string, string>();

  beforeAll(async () => {
    cluster = await startRedisCluster({ shards: SHARDS });
    // No ACL file: the default user is the admin that grants the node users, on every cluster node.
    const admin = `${cluster.urls[0]}?cluster=1`;
    for (const id of [A, B]) urls.set(id, (await grantBusUser(admin, { role: 'node', nodeId: id })).url);
    for (const id of [A, B]) {
      const url = urls.get(id)!;
      // As the apps wire them: one set of bus connections for the process's client and server.
      const connections = busConnections({ url, retryDelayMs: 100 });
      const server = new NodeAddressedRedisServer(
        id,
        redisTransport({ url, retryDelayMs: 100 }).options,
        connections,
      );
      server.addHandler(AgentPatterns.TicketRequest, (data: unknown) =>
        Promise.resolve({ refused: `asked by ${(data as { requesterId: string }).requesterId}` }),
      );
      server.addHandler(RelayPatterns.SetUploadLimit, () => Promise.resolve({ ok: true }));
      servers.push(server);
      await listen(server);
      const client = busClient(id, { url, retryDelayMs: 100 }, connections);
      clients.set(id, client);
      await client.connect();
    }
  }, 60_000);

  afterAll(async () => {
    for (const c of clients.values()) await (c.close() as Promise<void>).catch(() => undefined);
    for (const s of servers) await s.close().catch(() => undefined);
    await cluster?.stop();
  });

  const ask = (from: string, to: string, timeoutMs?: number) =>
    request(
      clients.get(from)!,
      addressed(AgentPatterns.TicketRequest, to),
      { streamId: 's', requesterId: from },
      timeoutMs,
    );

  it('carries requests both ways, and the sender checks hold', async () => {
    await expect(ask(A, B)).resolves.toEqual({ refused: `asked by ${A}` });
    await expect(ask(B, A)).resolves.toEqual({ refused: `asked by ${B}` });
    await expect(
      request(clients.get(B)!, addressed(RelayPatterns.SetUploadLimit, B), { uploadLimitBps: 1 }),
    ).resolves.toEqual({ ok: true });
    // The twin: A may not command B's relay.
    await expect(
      request(clients.get(A)!, addressed(RelayPatterns.SetUploadLimit, B), { uploadLimitBps: 1 }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });

  it("carries a node's messages to itself and every reply sharded, in the node's own slot", async () => {
    const spublishCalls = async () => {
      const stats = await Promise.all(cluster.nodes.map((n) => redisCli(n.port, 'INFO', 'commandstats')));
      return stats.reduce((sum, s) => sum + Number(/cmdstat_spublish:calls=(\d+)/.exec(s)?.[1] ?? 0), 0);
    };
    const before = await spublishCalls();
    await expect(ask(A, B)).resolves.toEqual({ refused: `asked by ${A}` });
    await expect(
      request(clients.get(B)!, addressed(RelayPatterns.SetUploadLimit, B), { uploadLimitBps: 1 }),
    ).resolves.toEqual({ ok: true });
    // A's request to B went by PUBLISH (B matches it by pattern); its reply, B's request to its own
    // relay and that reply went by SPUBLISH.
    expect((await spublishCalls()) - before).toBe(3);
    // B's server listens on its own sharded channels, all on one shard: its slot's master.
    const listed = await Promise.all(
      cluster.nodes.map((n) => redisCli(n.port, 'PUBSUB', 'SHARDCHANNELS', `*{${B}}`)),
    );
    const holding = listed.filter((out) => out.trim().length > 0);
    expect(holding).toHaveLength(1);
    expect(holding[0]).toContain(`relay.${B}.limits.set@{${B}}`);
  });

  it("holds one Cluster client per process: a publishing connection to its slot's master and two subscribers", async () => {
    const lists = await Promise.all(cluster.nodes.map((n) => redisCli(n.port, 'CLIENT', 'LIST')));
    const ofA = lists.flatMap((l) => l.split('\n').filter((line) => line.includes(` user=${A} `)));
    const names = ofA.map((line) => /name=(\S*)/.exec(line)?.[1] ?? '').sort();
    // Commands: its slot's master (PUBLISH, and SPUBLISH to itself), the master of each slot it answers
    // a request from (here B's), and whichever node took ioredis's ready check (CLUSTER INFO, to a random
    // node); one classic subscriber; one sharded subscriber (its own slot). Never one per master.
    expect(names.filter((n) => n === 'astral-bus').length).toBeLessThanOrEqual(3);
    expect(names.filter((n) => n.startsWith('ioredis-cluster(subscriber)'))).toHaveLength(1);
    expect(names.filter((n) => n.startsWith('ioredis-cluster(ssubscriber)'))).toHaveLength(1);
    expect(names).toHaveLength(names.filter((n) => n.includes('astral-bus')).length);
  });

  it('screens what arrives on its sharded channels: a bad packet is refused (400, on the sharded reply channel), its well-formed twin answered', async () => {
    // As the cluster's default user (no ACL file here), the one that may write B's own sharded channel.
    const raw = new Cluster(
      cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      {
        shardedSubscribers: true,
      },
    );
    raw.on('error', () => undefined);
    const base = addressed(RelayPatterns.SetUploadLimit, B);
    const replies = new Map<string, { err?: { status: number }; response?: unknown }>();
    raw.on('smessage', (_ch: string, msg: string) => {
      const r = JSON.parse(msg) as { id: string; err?: { status: number }; response?: unknown };
      replies.set(r.id, r);
    });
    const server = servers[1];
    const before = { ...server.refused };
    try {
      await raw.ssubscribe(shardedReplyChannel(base, B));
      const channel = shardedChannel(base, B);
      await raw.spublish(channel, JSON.stringify({ id: 'bad-shape', pattern: 5, data: {} }));
      await raw.spublish(channel, 'x'.repeat(MAX_MESSAGE_BYTES + 1));
      await raw.spublish(channel, JSON.stringify({ id: 'twin', pattern: base, data: { uploadLimitBps: 1 } }));
      await waitFor(() => replies.has('bad-shape') && replies.has('twin'), {
        timeoutMs: 5000,
        what: 'the refusal and the answer on the sharded reply channel',
      });
      expect(replies.get('bad-shape')?.err?.status).toBe(400);
      expect(replies.get('twin')).toMatchObject({ response: { ok: true } });
      expect((server.refused['bad-shape'] ?? 0) - (before['bad-shape'] ?? 0)).toBe(1);
      expect((server.refused['too-large'] ?? 0) - (before['too-large'] ?? 0)).toBe(1);
      // And the node still answers as usual.
      await expect(ask(A, B)).resolves.toEqual({ refused: `asked by ${A}` });
    } finally {
      raw.disconnect();
    }
  });

  it("has every node's ACL: A may publish as A and not as B, on each cluster node", async () => {
    const { password } = new URL(urls.get(A)!);
    for (const node of cluster.nodes) {
      const r = new Redis({ host: '127.0.0.1', port: node.port, username: A, password, lazyConnect: true });
      try {
        await r.connect();
        await expect(r.publish(`node.${B}.ticket.request@${A}`, '{}')).resolves.toBeGreaterThanOrEqual(0);
        await expect(r.publish(`node.${B}.ticket.request@${B}`, '{}')).rejects.toThrow(/NOPERM/);
      } finally {
        r.disconnect();
      }
    }
  });

  it('heals after each shard in turn is restarted', async () => {
    for (let shard = 0; shard < SHARDS; shard++) {
      await cluster.restartShard(shard);
      // The restarted node has no ACL of its own (no persistence): grant again, as an operator's
      // provisioning job (or an ACL file) does.
      const admin = `${cluster.urls[0]}?cluster=1`;
      for (const id of [A, B]) {
        const { password } = new URL(urls.get(id)!);
        await grantBusUser(admin, { role: 'node', nodeId: id }, { password });
      }
      for (const [from, to] of [
        [A, B],
        [B, A],
      ]) {
        await waitFor(
          async () => {
            try {
              return (await ask(from, to, 500)) !== undefined;
            } catch {
              return false;
            }
          },
          {
            timeoutMs: 20_000,
            intervalMs: 250,
            what: `${from} to reach ${to} after shard ${shard} restarted`,
          },
        );
      }
      // A node's own relay, on the sharded channel its server SSUBSCRIBEd once, long before: ioredis
      // subscribes again on the restarted master (one of the restarts is that of B's slot's master).
      await waitFor(
        async () => {
          try {
            const limit = addressed(RelayPatterns.SetUploadLimit, B);
            return (await request(clients.get(B)!, limit, { uploadLimitBps: 1 }, 500)) !== undefined;
          } catch {
            return false;
          }
        },
        {
          timeoutMs: 20_000,
          intervalMs: 250,
          what: `B to reach its own relay after shard ${shard} restarted`,
        },
      );
    }
  }, 180_000);
});
