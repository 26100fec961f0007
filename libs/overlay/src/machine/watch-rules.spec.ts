import { TicketOffer, TicketReply } from '@astral/contracts';
import { randomUUID } from 'node:crypto';
import { generateNodeKeys, signTicketToken } from '@astral/identity';
import {
  PeerListing,
  acquireBackoffMs,
  confirmRefusal,
  forwardUrlOf,
  offerRefusal,
  sortTicketReplies,
  withTicketToken,
} from './watch-rules';

const offer = (nodeId: string): TicketOffer =>
  ({ nodeId, ticketId: `ticket-${nodeId}`, hops: 1, path: [nodeId] }) as unknown as TicketOffer;

describe(sortTicketReplies.name, () => {
  it('keeps the offers and gives each other candidate a reason, with its id cut to 8 characters', () => {
    const replies: PromiseSettledResult<TicketReply>[] = [
      { status: 'fulfilled', value: { offer: offer('aaaaaaaa-1111') } },
      { status: 'fulfilled', value: { refused: 'no upload capacity left' } },
      { status: 'rejected', reason: new Error('timed out after 1000 ms') },
      { status: 'fulfilled', value: { offer: offer('dddddddd-4444') } },
    ];
    const sorted = sortTicketReplies(
      ['aaaaaaaa-1111', 'bbbbbbbb-2222', 'cccccccc-3333', 'dddddddd-4444'],
      replies,
    );
    expect(sorted.offers.map((o) => o.nodeId)).toEqual(['aaaaaaaa-1111', 'dddddddd-4444']);
    expect(sorted.reasons).toEqual([
      'bbbbbbbb: no upload capacity left',
      'cccccccc: Error: timed out after 1000 ms',
    ]);
  });

  it('refuses an offer naming another node than the one asked', () => {
    const sorted = sortTicketReplies(
      ['aaaaaaaa-1111', 'bbbbbbbb-2222'],
      [
        { status: 'fulfilled', value: { offer: offer('cccccccc-3333') } },
        { status: 'fulfilled', value: { offer: offer('bbbbbbbb-2222') } },
      ],
    );
    expect(sorted.offers.map((o) => o.nodeId)).toEqual(['bbbbbbbb-2222']);
    expect(sorted.reasons).toEqual(['aaaaaaaa: refused its offer: it names another node']);
  });

  it('has no offers and no reasons for no candidates', () => {
    expect(sortTicketReplies([], [])).toEqual({ offers: [], reasons: [] });
  });
});

describe(acquireBackoffMs.name, () => {
  it('asks at once the first time, then waits 150 ms more each round, at most 1 s', () => {
    expect([0, 1, 2, 6, 7, 20].map(acquireBackoffMs)).toEqual([0, 150, 300, 900, 1000, 1000]);
  });
});

describe(offerRefusal.name, () => {
  const source = randomUUID();
  const mid = randomUUID();
  const offering = randomUUID();
  const listed: PeerListing = { host: '10.0.0.7', forwardPort: 9000, publicKey: null };
  const good = (over: Partial<TicketOffer> = {}): TicketOffer => ({
    ticketId: randomUUID(),
    streamId: 'cam-1',
    nodeId: offering,
    hops: 3,
    path: [source, mid, offering],
    headroomBps: null,
    expiresAt: 0,
    host: '10.0.0.7',
    forwardPort: 9000,
    ...over,
  });

  it("believes an offer at the node's listed address whose path and hops agree", () => {
    expect(offerRefusal(good(), 'cam-1', source, [listed])).toBeNull();
    // A seed listing counts as much as the directory's.
    const seed = { host: '192.168.1.5', forwardPort: 9100, publicKey: null };
    expect(
      offerRefusal(good({ host: '192.168.1.5', forwardPort: 9100 }), 'cam-1', source, [listed, seed]),
    ).toBeNull();
    // The source itself: one hop, its path is itself.
    expect(
      offerRefusal(good({ nodeId: source, hops: 1, path: [source] }), 'cam-1', source, [listed]),
    ).toBeNull();
  });

  it('refuses an address that is not the listing (a blind SSRF), and an unlisted node', () => {
    expect(offerRefusal(good({ host: '169.254.169.254' }), 'cam-1', source, [listed])).toMatch(
      /listed address/,
    );
    expect(offerRefusal(good({ forwardPort: 22 }), 'cam-1', source, [listed])).toMatch(/listed address/);
    expect(offerRefusal(good(), 'cam-1', source, [])).toMatch(/not listed/);
  });

  it('refuses hops that disagree with the path, and paths that do not run from the source to the node', () => {
    expect(offerRefusal(good({ hops: 1 }), 'cam-1', source, [listed])).toMatch(
      /claims 1 hops on a path of 3/,
    );
    expect(offerRefusal(good({ path: [source, offering, mid] }), 'cam-1', source, [listed])).toMatch(
      /end with/,
    );
    expect(offerRefusal(good({ path: [mid, source, offering] }), 'cam-1', source, [listed])).toMatch(
      /source/,
    );
    expect(offerRefusal(good({ path: [source, source, offering] }), 'cam-1', source, [listed])).toMatch(
      /repeats/,
    );
    expect(offerRefusal(good(), 'cam-2', source, [listed])).toMatch(/another stream/);
  });
});

describe(confirmRefusal.name, () => {
  const upstream = generateNodeKeys();
  const me = generateNodeKeys();
  const now = 1_700_000_000_000;
  const e = {
    ticketId: randomUUID(),
    streamId: 'cam-1',
    upstreamNodeId: randomUUID(),
    nodeId: randomUUID(),
    publicKey: me.publicKey,
    upstreamKey: upstream.publicKey,
    now,
  };
  const token = (over: Record<string, unknown> = {}, keys = upstream) =>
    signTicketToken(keys, {
      ticketId: e.ticketId,
      streamId: e.streamId,
      upstreamNodeId: e.upstreamNodeId,
      downstreamNodeId: e.nodeId,
      downstreamKey: me.publicKey,
      expiresAt: now + 60_000,
      ...over,
    });

  it('takes a token the upstream signed for us and our key; refuses one signed by another key', () => {
    expect(confirmRefusal({ ticketId: e.ticketId, token: token() }, e)).toBeNull();
    expect(confirmRefusal({ ticketId: e.ticketId, token: token({}, me) }, e)).toMatch(/bad-signature/);
  });

  it('refuses a token for another downstream, ticket or stream, or an expired one', () => {
    expect(
      confirmRefusal({ ticketId: e.ticketId, token: token({ downstreamKey: upstream.publicKey }) }, e),
    ).toMatch(/another downstream/);
    expect(confirmRefusal({ ticketId: e.ticketId, token: token({ ticketId: randomUUID() }) }, e)).toMatch(
      /another ticket/,
    );
    expect(confirmRefusal({ ticketId: randomUUID(), token: token() }, e)).toMatch(/another ticket/);
    expect(confirmRefusal({ ticketId: e.ticketId, token: token({ streamId: 'cam-2' }) }, e)).toMatch(
      /wrong-stream/,
    );
    expect(confirmRefusal({ ticketId: e.ticketId, token: token({ expiresAt: now }) }, e)).toMatch(/expired/);
  });

  it('without the upstream key (a seed) still checks the claims name us', () => {
    const seed = { ...e, upstreamKey: null };
    expect(confirmRefusal({ ticketId: e.ticketId, token: token({}, me) }, seed)).toBeNull();
    expect(
      confirmRefusal({ ticketId: e.ticketId, token: token({ downstreamNodeId: randomUUID() }) }, seed),
    ).toMatch(/another downstream/);
    expect(confirmRefusal({ ticketId: e.ticketId, token: 'x.y' }, seed)).toMatch(/malformed/);
  });
});

describe(forwardUrlOf.name, () => {
  it('builds the pull URL from the listing, brackets IPv6, and swaps in a fresh token', () => {
    const url = forwardUrlOf({ host: '10.0.0.7', forwardPort: 9000 }, 'cam-1', 'abc.def');
    expect(url).toBe('http://10.0.0.7:9000/forward/cam-1.flv?ticket=abc.def');
    expect(forwardUrlOf({ host: '::1', forwardPort: 9000 }, 'cam-1', 't')).toBe(
      'http://[::1]:9000/forward/cam-1.flv?ticket=t',
    );
    expect(withTicketToken(url, 'new.tok')).toBe('http://10.0.0.7:9000/forward/cam-1.flv?ticket=new.tok');
  });
});
