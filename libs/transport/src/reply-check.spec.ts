import {
  AgentPatterns,
  CHECKED_REPLIES,
  CarrierInfo,
  DirectoryPatterns,
  MembershipAccepted,
  NodeInfo,
  Refused,
  TicketOffered,
  isHost,
  replyShapeOf,
} from '@astral/contracts';
import { checkReply } from './reply-check';

const nodeA = '6f1c2c39-8a47-4c5e-9d1b-0a8f3e0c2b11';
const nodeB = '0b5e0a1e-3c1d-4f7a-9a2b-5d6e7f8a9b0c';
const ticketId = 'd2a7c4e1-6b3f-4a8d-9c5e-1f2a3b4c5d6e';

const offer = {
  ticketId,
  streamId: 'my-stream',
  nodeId: nodeA,
  hops: 2,
  path: [nodeB, nodeA],
  headroomBps: 3_000_000,
  expiresAt: 1_700_000_000_000,
  host: '10.0.0.7',
  forwardPort: 9000,
  bitrateBps: 2_500_000,
};
const carrier = { nodeId: nodeA, hops: 1, host: 'node-a.example', forwardPort: 9000, apiPort: 7000 };
const node = {
  nodeId: nodeA,
  host: '10.0.0.7',
  rtmpPort: 1935,
  httpPort: 8000,
  forwardPort: 9000,
  apiPort: 7000,
  supernode: false,
  maxChildren: null,
  childCount: 0,
  uploadLimitBps: null,
  lastSeenAt: '2026-01-01T00:00:00.000Z',
  version: '0.1.0',
  publicKey: null,
  uploadBps: null,
  committedBps: null,
  players: 0,
  supernodeId: null,
};

const ticketReply = replyShapeOf(AgentPatterns.TicketRequest)!;
const confirmReply = replyShapeOf(AgentPatterns.TicketConfirm)!;
const ticketHeartbeat = replyShapeOf(AgentPatterns.TicketHeartbeat)!;
const joinReply = replyShapeOf(AgentPatterns.MembershipJoin)!;
const memberHeartbeat = replyShapeOf(AgentPatterns.MembershipHeartbeat)!;
const carriers = replyShapeOf(AgentPatterns.SupernodeCarriers)!;
const registered = replyShapeOf(DirectoryPatterns.RegisterNode)!;
const supernodes = replyShapeOf(DirectoryPatterns.ListSupernodes)!;

/** The field names a refusal reports, or 'accepted'. */
function verdict(result: ReturnType<typeof checkReply>): string[] | 'accepted' {
  return result.ok ? 'accepted' : Object.keys(result.fields);
}

describe('checkReply: ticket offers (TicketReply)', () => {
  it('accepts an offer and a refusal, as class instances', () => {
    const offered = checkReply(ticketReply, { offer });
    expect(offered.ok && offered.value).toBeInstanceOf(TicketOffered);
    expect(offered.ok && 'offer' in offered.value && offered.value.offer).toMatchObject(offer);
    const refused = checkReply(ticketReply, { refused: 'no upload headroom' });
    expect(refused.ok && refused.value).toBeInstanceOf(Refused);
  });

  it('accepts an unlimited headroom (Infinity is sent as null) and an IPv6 host, an offer without a bit rate', () => {
    expect(verdict(checkReply(ticketReply, { offer: { ...offer, headroomBps: null } }))).toBe('accepted');
    expect(verdict(checkReply(ticketReply, { offer: { ...offer, host: '2001:db8::7' } }))).toBe('accepted');
    const withoutBitrate: Partial<typeof offer> = { ...offer };
    delete withoutBitrate.bitrateBps;
    expect(verdict(checkReply(ticketReply, { offer: withoutBitrate }))).toBe('accepted');
  });

  it.each([
    ['a host with a path', { host: '10.0.0.7/evil' }, 'offer.host'],
    ['a host with a scheme', { host: 'http://10.0.0.7' }, 'offer.host'],
    ['a bracketed host', { host: '[::1]' }, 'offer.host'],
    ['a host label ending in a dash', { host: 'node-.example' }, 'offer.host'],
    ['an empty host', { host: '' }, 'offer.host'],
    ['port 0', { forwardPort: 0 }, 'offer.forwardPort'],
    ['port 65536', { forwardPort: 65536 }, 'offer.forwardPort'],
    ['a fractional port', { forwardPort: 9000.5 }, 'offer.forwardPort'],
    ['a port as a string', { forwardPort: '9000' }, 'offer.forwardPort'],
    ['a node id that is not a UUID', { nodeId: 'node-a' }, 'offer.nodeId'],
    ['a path with a non-UUID', { path: [nodeB, 'x'] }, 'offer.path'],
    ['hops 0', { hops: 0 }, 'offer.hops'],
    ['a missing headroom', { headroomBps: undefined }, 'offer.headroomBps'],
    ['a bad stream id', { streamId: 'Bad Stream!' }, 'offer.streamId'],
  ])('refuses an offer with %s', (_what, change, field) => {
    expect(verdict(checkReply(ticketReply, { offer: { ...offer, ...change } }))).toEqual([field]);
    // its legitimate twin
    expect(verdict(checkReply(ticketReply, { offer }))).toBe('accepted');
  });

  it('refuses a reply that is neither an offer nor a refusal, and one that is not an object', () => {
    expect(checkReply(ticketReply, { accepted: true }).ok).toBe(false);
    expect(checkReply(ticketReply, { offer: 'yes' }).ok).toBe(false);
    expect(checkReply(ticketReply, { refused: 42 }).ok).toBe(false);
    expect(checkReply(ticketReply, 'offer').ok).toBe(false);
    expect(checkReply(ticketReply, null).ok).toBe(false);
    expect(checkReply(ticketReply, [{ offer }]).ok).toBe(false);
  });

  it('drops fields the contract does not name (whitelist), as requests do', () => {
    const r = checkReply(ticketReply, { offer: { ...offer, admin: true } });
    expect(r.ok && 'offer' in r.value && 'admin' in r.value.offer).toBe(false);
  });
});

describe('checkReply: TicketConfirmReply and TicketHeartbeatReply', () => {
  const token = `${'e'.repeat(300)}.${'s'.repeat(86)}`;
  const confirm = { ticketId, token };

  it('accepts a confirmation with a signed token; refuses a URL, an over-long token or a bad ticket id', () => {
    expect(verdict(checkReply(confirmReply, confirm))).toBe('accepted');
    expect(verdict(checkReply(confirmReply, { ...confirm, token: 'http://10.0.0.9:22/x' }))).toEqual([
      'token',
    ]);
    expect(
      verdict(checkReply(confirmReply, { ...confirm, token: `${'e'.repeat(3000)}.${'s'.repeat(86)}` })),
    ).toEqual(['token']);
    expect(verdict(checkReply(confirmReply, { ...confirm, ticketId: 'x' }))).toEqual(['ticketId']);
  });

  it('drops an address a peer adds to its confirmation (the requester never dials one)', () => {
    const r = checkReply(confirmReply, { ...confirm, forwardUrl: 'http://10.0.0.9:22/' });
    expect(r.ok && 'forwardUrl' in r.value).toBe(false);
  });

  it('accepts ok with and without a path and unknown; refuses ok: false and a bad path', () => {
    expect(verdict(checkReply(ticketHeartbeat, { ok: true, path: [nodeB, nodeA] }))).toBe('accepted');
    expect(verdict(checkReply(ticketHeartbeat, { ok: true }))).toBe('accepted');
    expect(
      verdict(checkReply(ticketHeartbeat, { ok: true, token: `${'e'.repeat(300)}.${'s'.repeat(86)}` })),
    ).toBe('accepted');
    expect(verdict(checkReply(ticketHeartbeat, { ok: true, token: 'abc' }))).toEqual(['token']);
    expect(verdict(checkReply(ticketHeartbeat, { unknown: true }))).toBe('accepted');
    expect(checkReply(ticketHeartbeat, { ok: false }).ok).toBe(false);
    expect(verdict(checkReply(ticketHeartbeat, { ok: true, path: 'x' }))).toEqual(['path']);
    expect(checkReply(ticketHeartbeat, {}).ok).toBe(false);
  });
});

describe('checkReply: membership replies', () => {
  const accepted = { accepted: true, supernodeId: nodeA, heartbeatMs: 1000, knownSupernodes: [nodeA, nodeB] };

  it('accepts a join and a refusal; refuses a join with a bad supernode id or heartbeat', () => {
    const r = checkReply(joinReply, accepted);
    expect(r.ok && r.value).toBeInstanceOf(MembershipAccepted);
    expect(verdict(checkReply(joinReply, { refused: 'full (100 members)' }))).toBe('accepted');
    expect(verdict(checkReply(joinReply, { ...accepted, supernodeId: 'sn' }))).toEqual(['supernodeId']);
    expect(verdict(checkReply(joinReply, { ...accepted, heartbeatMs: 0 }))).toEqual(['heartbeatMs']);
    expect(verdict(checkReply(joinReply, { ...accepted, knownSupernodes: ['x'] }))).toEqual([
      'knownSupernodes',
    ]);
  });

  it('accepts a heartbeat answer and unknown; refuses one without its supernode list', () => {
    expect(verdict(checkReply(memberHeartbeat, { ok: true, knownSupernodes: [] }))).toBe('accepted');
    expect(verdict(checkReply(memberHeartbeat, { unknown: true }))).toBe('accepted');
    expect(checkReply(memberHeartbeat, { ok: true }).ok).toBe(false);
  });
});

describe('checkReply: carriers and the directory replies', () => {
  it('accepts a carrier list; names the item and field of a bad host or port', () => {
    const r = checkReply(carriers, [carrier, { ...carrier, nodeId: nodeB, host: '10.0.0.8' }]);
    expect(r.ok && r.value[0]).toBeInstanceOf(CarrierInfo);
    expect(verdict(checkReply(carriers, [carrier, { ...carrier, host: 'a b' }]))).toEqual(['[1].host']);
    expect(verdict(checkReply(carriers, [{ ...carrier, apiPort: 70000 }]))).toEqual(['[0].apiPort']);
    expect(verdict(checkReply(carriers, []))).toBe('accepted');
  });

  it('refuses a carrier list that is not a list, or is longer than 1000', () => {
    expect(checkReply(carriers, carrier).ok).toBe(false);
    expect(
      checkReply(
        carriers,
        Array.from({ length: 1001 }, () => carrier),
      ).ok,
    ).toBe(false);
    expect(
      checkReply(
        carriers,
        Array.from({ length: 1000 }, () => carrier),
      ).ok,
    ).toBe(true);
  });

  it('accepts a registration reply and a supernode list; refuses a nested bad node', () => {
    const reply = {
      node,
      heartbeatIntervalMs: 5000,
      supernodes: [{ ...node, supernode: true, maxChildren: 10 }],
    };
    const r = checkReply(registered, reply);
    expect(r.ok && r.value.node).toBeInstanceOf(NodeInfo);
    expect(verdict(checkReply(registered, { ...reply, supernodes: [{ ...node, forwardPort: -1 }] }))).toEqual(
      ['supernodes.0.forwardPort'],
    );
    expect(verdict(checkReply(supernodes, [node]))).toBe('accepted');
    expect(verdict(checkReply(supernodes, [{ ...node, maxChildren: 'many' }]))).toEqual(['[0].maxChildren']);
  });
});

describe('isHost', () => {
  it.each(['127.0.0.1', '::1', '2001:db8::7', 'localhost', 'node-a.example', 'a.b.c'])('accepts %s', (h) => {
    expect(isHost(h)).toBe(true);
  });
  it.each(['', ' ', '[::1]', '-a', 'a-', 'a..b', 'a_b', '10.0.0.7:9000', 'x'.repeat(254), 'héllo'])(
    'refuses %j',
    (h) => {
      expect(isHost(h)).toBe(false);
    },
  );
});

it('checks the replies that come from other nodes and the directory replies the agent builds on', () => {
  expect(Object.keys(CHECKED_REPLIES).sort()).toEqual(
    [
      AgentPatterns.TicketRequest,
      AgentPatterns.TicketConfirm,
      AgentPatterns.TicketHeartbeat,
      AgentPatterns.MembershipJoin,
      AgentPatterns.MembershipHeartbeat,
      AgentPatterns.SupernodeCarriers,
      DirectoryPatterns.RegisterNode,
      DirectoryPatterns.ListSupernodes,
      DirectoryPatterns.ListCarriers,
    ].sort(),
  );
});
