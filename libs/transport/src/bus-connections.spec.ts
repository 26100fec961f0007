import Redis from 'ioredis';
import { ClientProxy } from '@nestjs/microservices';
import { AgentPatterns, RelayPatterns, addressed } from '@astral/contracts';
import { RedisHandle, startRedis, waitFor } from '@astral/testing';
import { busClient } from './bus-client';
import { BusConnections, busConnections } from './bus-connections';
import { redisTransport } from './redis-transport';
import { NodeAddressedRedisServer } from './redis-server';
import { request } from './send';

const A = '0a6b3b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const B = '1b7c4c9f-2d3e-4f60-9bac-1d2e3f4a5b6c';

const listen = (server: NodeAddressedRedisServer) =>
  new Promise<void>((resolve, reject) =>
    server.listen((err?: unknown) => (err instanceof Error ? reject(err) : resolve())),
  );

/** The bus connections Redis sees, by the name the pool gives them (CLIENT LIST). */
async function busConnectionsSeen(admin: Redis): Promise<string[]> {
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .map((line) => /name=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith('astral-bus-'))
    .sort();
}

/**
 * Two "processes" in one: node B's agent side (server + client on one pool, as apps/node-agent wires
 * them) and node A's (the same), against a real Redis. Each pool holds one publisher and one
 * subscriber, and requests and replies flow both ways over them.
 */
describe('BusConnections: a process shares one publisher and one subscriber between its client and server', () => {
  let redis: RedisHandle;
  let admin: Redis;
  const pools: BusConnections[] = [];
  const servers: NodeAddressedRedisServer[] = [];
  const clients: ClientProxy[] = [];

  function pool(url: string): BusConnections {
    const p = busConnections({ url, retryDelayMs: 100 });
    pools.push(p);
    return p;
  }

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
  });

  afterAll(async () => {
    for (const c of clients) await (c.close() as Promise<void>).catch(() => undefined);
    for (const s of servers) await s.close().catch(() => undefined);
    admin?.disconnect();
    await redis?.stop();
  });

  async function nodeProcess(nodeId: string, serverFirst: boolean) {
    const connections = pool(redis.url);
    const server = new NodeAddressedRedisServer(
      nodeId,
      redisTransport({ url: redis.url }).options,
      connections,
    );
    server.addHandler(AgentPatterns.TicketRequest, (data: unknown) =>
      Promise.resolve({ refused: `asked by ${(data as { requesterId: string }).requesterId}` }),
    );
    server.addHandler(RelayPatterns.SetUploadLimit, () => Promise.resolve({ ok: true }));
    const client = busClient(nodeId, { url: redis.url }, connections);
    servers.push(server);
    clients.push(client);
    if (serverFirst) {
      await listen(server);
      await client.connect();
    } else {
      await client.connect();
      await listen(server);
    }
    return { connections, server, client };
  }

  it('holds two connections per process, whichever side connects first, and serves both directions', async () => {
    const b = await nodeProcess(B, true);
    const a = await nodeProcess(A, false);
    expect(await busConnectionsSeen(admin)).toEqual([
      'astral-bus-pub',
      'astral-bus-pub',
      'astral-bus-sub',
      'astral-bus-sub',
    ]);
    expect([b.connections.users('pub'), b.connections.users('sub')]).toEqual([2, 2]);

    await expect(
      request(a.client, addressed(AgentPatterns.TicketRequest, B), { streamId: 's', requesterId: A }),
    ).resolves.toEqual({ refused: `asked by ${A}` });
    await expect(
      request(b.client, addressed(AgentPatterns.TicketRequest, A), { streamId: 's', requesterId: B }),
    ).resolves.toEqual({ refused: `asked by ${B}` });
    // Its own relay's pattern, through its own server, on the same two connections.
    await expect(
      request(b.client, addressed(RelayPatterns.SetUploadLimit, B), { uploadLimitBps: 1 }),
    ).resolves.toEqual({ ok: true });
    // The twin refusal still holds on shared connections: A may not command B's relay.
    await expect(
      request(a.client, addressed(RelayPatterns.SetUploadLimit, B), { uploadLimitBps: 1 }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('keeps the server serving when the client closes, and closes the connections with their last user', async () => {
    const [bClient, aClient] = clients;
    const a = { client: aClient };
    await bClient.close();
    // B's server still answers A on the connections B's closed client shared.
    await expect(
      request(a.client, addressed(AgentPatterns.TicketRequest, B), { streamId: 's', requesterId: A }),
    ).resolves.toEqual({ refused: `asked by ${A}` });
    expect(pools[0].users('pub')).toBe(1);
    await servers[0].close();
    expect(pools[0].users('pub')).toBe(0);
    await waitFor(async () => (await busConnectionsSeen(admin)).length === 2, {
      timeoutMs: 5000,
      what: "B's two bus connections to close",
    });
  });

  it('comes back after a Redis restart on the shared connections', async () => {
    const a = { client: clients[1] };
    const b = await nodeProcess(B, true); // B's process again, on new connections
    await redis.restart();
    await waitFor(
      async () => {
        try {
          return (
            (await request(
              a.client,
              addressed(AgentPatterns.TicketRequest, B),
              { streamId: 's', requesterId: A },
              500,
            )) !== undefined
          );
        } catch {
          return false;
        }
      },
      { timeoutMs: 15_000, intervalMs: 250, what: 'A to reach B again after the restart' },
    );
    await expect(
      request(b.client, addressed(AgentPatterns.TicketRequest, A), { streamId: 's', requesterId: B }),
    ).resolves.toEqual({ refused: `asked by ${B}` });
  }, 30_000);
});
