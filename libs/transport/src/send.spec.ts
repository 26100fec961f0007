import Redis from 'ioredis';
import { ClientProxy } from '@nestjs/microservices';
import { AgentPatterns, AstralError, TicketOffered, WireReply, addressed } from '@astral/contracts';
import { RedisHandle, startRedis } from '@astral/testing';
import { claimingBusClient } from './bus-client';
import { request } from './send';

const peer = '6f1c2c39-8a47-4c5e-9d1b-0a8f3e0c2b11';
const requesterId = '0b5e0a1e-3c1d-4f7a-9a2b-5d6e7f8a9b0c';
const offer = {
  ticketId: 'd2a7c4e1-6b3f-4a8d-9c5e-1f2a3b4c5d6e',
  streamId: 'my-stream',
  nodeId: peer,
  hops: 1,
  path: [peer],
  headroomBps: null,
  expiresAt: 1_700_000_000_000,
  host: '10.0.0.7',
  forwardPort: 9000,
};

/**
 * `request` over a real Redis against a peer that answers what it is told to (raw packets on the
 * reply channel, as Nest's server writes them): a reply that fails its contract is an AstralError.
 */
describe('request: replies are checked on receipt', () => {
  let redis: RedisHandle;
  let client: ClientProxy;
  let peerSub: Redis;
  let peerPub: Redis;
  let answer: unknown;
  const channel = addressed(AgentPatterns.TicketRequest, peer);

  beforeAll(async () => {
    redis = await startRedis();
    client = claimingBusClient({ url: redis.url });
    await client.connect();
    peerSub = new Redis(redis.url);
    peerPub = new Redis(redis.url);
    // The peer reads its channel from every sender (`<channel>@<sender>`) and answers on the sender's reply channel.
    await peerSub.psubscribe(`${channel}@*`);
    peerSub.on('pmessage', (_pattern: string, ch: string, raw: string) => {
      const { id } = JSON.parse(raw) as { id: string };
      const reply: WireReply = { id, response: answer, isDisposed: true };
      void peerPub.publish(`${ch}.reply`, JSON.stringify(reply));
    });
  });

  afterAll(async () => {
    await client?.close();
    await peerSub?.quit();
    await peerPub?.quit();
    await redis?.stop();
  });

  it('returns a valid offer as a TicketOffered instance', async () => {
    answer = { offer };
    const reply = await request(client, channel, { streamId: 'my-stream', requesterId }, 3000);
    expect(reply).toBeInstanceOf(TicketOffered);
    expect(reply).toEqual({ offer });
  });

  it('throws an offer with a bad host or port as an AstralError naming the fields', async () => {
    answer = { offer: { ...offer, host: '10.0.0.7/x', forwardPort: 70000 } };
    const err = await request(client, channel, { streamId: 'my-stream', requesterId }, 3000).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AstralError);
    expect(err).toMatchObject({
      code: 'unavailable',
      fields: { 'offer.host': [expect.any(String)], 'offer.forwardPort': [expect.any(String)] },
    });
    expect((err as AstralError).message).toMatch(
      /^invalid reply: offer.host, offer.forwardPort to node\..*tickets\.request; the peer may run an incompatible version/,
    );
  });

  it('throws a reply of the wrong kind (a list) the same way; a refusal is still a valid answer', async () => {
    answer = [offer];
    await expect(
      request(client, channel, { streamId: 'my-stream', requesterId }, 3000),
    ).rejects.toMatchObject({ code: 'unavailable' });
    answer = { refused: 'no upload headroom' };
    await expect(request(client, channel, { streamId: 'my-stream', requesterId }, 3000)).resolves.toEqual({
      refused: 'no upload headroom',
    });
  });
});
