import { NodeInfo } from '@astral/contracts';
import { generateNodeKeys, verifyTicketToken } from '@astral/identity';
import {
  ServedTicket,
  listedTicket,
  requesterKeyOf,
  signServedToken,
  tokenNeedsRefresh,
} from './served-ticket';

const UPSTREAM = '4eaf7f2c-5061-4283-8edf-4a5b6c7d8e9f';
const REQUESTER = '5fb08a3d-6172-4394-9fe0-5b6c7d8e9fa0';

describe(tokenNeedsRefresh.name, () => {
  it('refreshes a token once it is past half its life (and one never signed)', () => {
    const ttl = 60_000;
    expect(tokenNeedsRefresh(100_000 + ttl, ttl, 100_000)).toBe(false);
    expect(tokenNeedsRefresh(100_000 + ttl, ttl, 100_000 + 29_999)).toBe(false);
    expect(tokenNeedsRefresh(100_000 + ttl, ttl, 100_000 + 30_001)).toBe(true);
    expect(tokenNeedsRefresh(0, ttl, 100_000)).toBe(true);
  });
});

describe('served tickets', () => {
  const keys = generateNodeKeys();
  const requesterKey = generateNodeKeys().publicKey;
  const ticket = (): ServedTicket => ({
    ticketId: '6ac19b4e-7283-44a5-8af1-6c7d8e9fa0b1',
    streamId: 'my-stream',
    requesterId: REQUESTER,
    state: 'confirmed',
    bitrateBps: 1_000_000,
    expiresAt: null,
    createdAt: 0,
    token: null,
    lastHeartbeat: 0,
    requesterKey,
    tokenExpiresAt: 0,
  });

  it('signs a token the upstream verifies, naming the downstream, and remembers its expiry', () => {
    const t = ticket();
    const token = signServedToken(keys, UPSTREAM, t, 60_000, 1_000_000);
    expect(t.tokenExpiresAt).toBe(1_060_000);
    const verdict = verifyTicketToken(token, keys.publicKey, 1_000_500);
    expect(verdict).toMatchObject({ ok: true });
    expect(verifyTicketToken(token, keys.publicKey, 1_060_001)).toMatchObject({ ok: false });
  });

  it("lists a ticket without the requester's key or its token", () => {
    const listed = listedTicket(ticket());
    expect(listed).not.toHaveProperty('requesterKey');
    expect(listed).not.toHaveProperty('tokenExpiresAt');
    expect(listed.token).toBeNull();
  });

  it('gives a ticket only to a node the directory lists with a key', () => {
    const node = { nodeId: REQUESTER, publicKey: requesterKey } as NodeInfo;
    expect(requesterKeyOf(REQUESTER, node)).toEqual({ key: requesterKey });
    expect(requesterKeyOf(REQUESTER, { ...node, publicKey: null })).toMatchObject({
      listed: true,
      refusal: { code: 'forbidden', message: expect.stringMatching(/no public key/) as unknown },
    });
    expect(requesterKeyOf(REQUESTER, undefined)).toMatchObject({
      listed: false,
      refusal: { code: 'forbidden', message: expect.stringMatching(/not registered/) as unknown },
    });
  });
});
