import Redis from 'ioredis';
import { ClientProxy } from '@nestjs/microservices';
import { AgentPatterns, RelayPatterns, addressed } from '@astral/contracts';
import { RedisHandle, startRedis } from '@astral/testing';
import { busClient } from './bus-client';
import { redisTransport } from './redis-transport';
import { NodeAddressedRedisServer } from './redis-server';
import { emit, request } from './send';

const A = '0a6b3b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const B = '1b7c4c9f-2d3e-4f60-9bac-1d2e3f4a5b6c';

/** A real Redis, node B's server, and clients speaking as A and as B. */
describe('NodeAddressedRedisServer: the sender of every message is checked', () => {
  let redis: RedisHandle;
  let server: NodeAddressedRedisServer;
  let asA: ClientProxy;
  let asB: ClientProxy;
  const limits: unknown[] = [];
  const ended: unknown[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    server = new NodeAddressedRedisServer(B, redisTransport({ url: redis.url }).options);
    server.addHandler(RelayPatterns.SetUploadLimit, (data: unknown) => {
      limits.push(data);
      return Promise.resolve({ ok: true });
    });
    server.addHandler(AgentPatterns.TicketRequest, () => Promise.resolve({ refused: 'no upload headroom' }));
    server.addHandler(
      AgentPatterns.RelayStreamEnded,
      (data: unknown) => {
        ended.push(data);
        return Promise.resolve();
      },
      true,
    );
    await new Promise<void>((resolve, reject) =>
      server.listen((err?: unknown) => (err instanceof Error ? reject(err) : resolve())),
    );
    asA = busClient(A, { url: redis.url });
    asB = busClient(B, { url: redis.url });
    await Promise.all([asA.connect(), asB.connect()]);
  });

  afterAll(async () => {
    await asA?.close();
    await asB?.close();
    await server?.close();
    await redis?.stop();
  });

  it('subscribes once per namespace, as the ACL patterns are spelled', () => {
    expect(server.subscriptionPatterns().sort()).toEqual([`node.${B}.*`, `relay.${B}.*`]);
  });

  it("obeys its own node on its relay's channels, and refuses another node with 403", async () => {
    const channel = addressed(RelayPatterns.SetUploadLimit, B);
    await expect(request(asA, channel, { uploadLimitBps: 0 })).rejects.toMatchObject({
      code: 'forbidden',
      status: 403,
    });
    expect(limits).toEqual([]);
    await expect(request(asB, channel, { uploadLimitBps: 1000 })).resolves.toEqual({ ok: true });
    expect(limits).toEqual([{ uploadLimitBps: 1000 }]);
    expect(server.refused.forbidden).toBe(1);
  });

  it('drops an event from another node that claims to be its relay', async () => {
    const channel = addressed(AgentPatterns.RelayStreamEnded, B);
    await emit(asA, channel, { nodeId: B, streamId: 'some-stream', origin: 'publish' });
    await emit(asB, channel, { nodeId: B, streamId: 'my-stream', origin: 'publish' });
    await new Promise((r) => setTimeout(r, 300));
    expect(ended).toEqual([{ nodeId: B, streamId: 'my-stream', origin: 'publish' }]);
  });

  it('takes a ticket request only from the requester it names', async () => {
    const channel = addressed(AgentPatterns.TicketRequest, B);
    await expect(request(asA, channel, { streamId: 'my-stream', requesterId: A })).resolves.toEqual({
      refused: 'no upload headroom',
    });
    await expect(request(asA, channel, { streamId: 'my-stream', requesterId: B })).rejects.toMatchObject({
      code: 'forbidden',
    });
  });

  it('answers a request on a channel without a sender with 400, on its old reply channel', async () => {
    const sub = new Redis(redis.url);
    const pub = new Redis(redis.url);
    try {
      const channel = addressed(AgentPatterns.TicketRequest, B);
      await sub.subscribe(`${channel}.reply`);
      const reply = new Promise<string>((resolve) =>
        sub.on('message', (_c: string, m: string) => resolve(m)),
      );
      await pub.publish(channel, JSON.stringify({ pattern: channel, data: {}, id: 'legacy-1' }));
      expect(JSON.parse(await reply) as unknown).toMatchObject({
        id: 'legacy-1',
        err: {
          error: 'bad-request',
          status: 400,
          message: expect.stringMatching(/must end with @<sender id>/) as unknown,
        },
      });
      expect(server.refused['no-sender']).toBe(1);
    } finally {
      sub.disconnect();
      pub.disconnect();
    }
  });
});
