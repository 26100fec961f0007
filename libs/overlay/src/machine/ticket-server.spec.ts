import { RelayPatterns } from '@astral/contracts';
import {
  Harness,
  MBIT,
  NODE,
  RequestOpts,
  STREAM,
  TTL,
  answerTo,
  answered,
  endedNotices,
  requestsOf,
} from './ticket-server.fixture';
import { OFFER_TTL_MS } from './ticket-server-types';

const A = 'node-a';
const B = 'node-b';
const C = 'node-c';

describe('TicketServer: request', () => {
  it.each<[string, string, RequestOpts, { refused: string } | { code: string }]>([
    ['a stream it does not carry', A, { carried: false }, { refused: 'this node does not carry the stream' }],
    ['itself', NODE, {}, { refused: 'the requester is upstream of this node (a loop)' }],
    [
      'a node on its own upstream path',
      A,
      { path: [A, NODE], hops: 2 },
      { refused: 'the requester is upstream of this node (a loop)' },
    ],
    ['a node the directory has no key for', A, { key: null }, { code: 'forbidden' }],
    ['a stream not measured yet (limited node)', A, { rate: 0 }, { refused: 'bit rate not measured yet' }],
    ['no headroom left (players hold it)', A, { players: 3.5 * MBIT }, { refused: 'no upload headroom' }],
    [
      'a last slot for a leaf that has not waited',
      A,
      { players: 2 * MBIT, canForward: false },
      { refused: 'last slots kept for nodes that can forward' },
    ],
  ])('refuses %s', (_name, requester, opts, expected) => {
    const h = new Harness();
    const { reply } = h.request(requester, 0, opts);
    if ('refused' in expected) expect(reply).toEqual({ ok: true, value: expected });
    else expect(reply).toMatchObject({ ok: false, code: expected.code });
    expect(h.m.served()).toEqual([]);
  });

  it('offers with headroom: hops + 1, its path, the spare upload, a TTL timer', () => {
    const h = new Harness();
    const { reply, effects } = h.request(A, 1000, { path: [B, NODE], hops: 2, players: MBIT });
    expect(reply).toEqual({
      ok: true,
      value: {
        offer: {
          ticketId: 'ticket-1',
          streamId: STREAM,
          nodeId: NODE,
          hops: 3,
          path: [B, NODE],
          headroomBps: 2 * MBIT,
          expiresAt: 1000 + OFFER_TTL_MS,
          host: '10.0.0.1',
          forwardPort: 1936,
          bitrateBps: MBIT,
        },
      },
    });
    expect(effects).toContainEqual({ kind: 'set-timer', timer: 'offer:ticket-1', afterMs: OFFER_TTL_MS });
    expect(h.m.served()).toEqual([{ streamId: STREAM, bitrateBps: MBIT, confirmed: false }]);
  });

  it("admits at the larger of its relay's rate and its upstream's (a pull just started)", () => {
    const h = new Harness();
    expect(h.offer(A, 0, { rate: 0, upstreamRate: 1.5 * MBIT }).bitrateBps).toBe(1.5 * MBIT);
    expect(h.offer(B, 0, { rate: 2 * MBIT, upstreamRate: 1.5 * MBIT }).bitrateBps).toBe(2 * MBIT);
  });

  it('an unlimited node offers even before it has measured, with unlimited headroom', () => {
    const h = new Harness({ uploadLimitBps: null });
    expect(h.offer(A, 0, { rate: 0 }).headroomBps).toBeNull();
  });

  it('offers are reservations: the next request sees them', () => {
    const h = new Harness();
    h.offer(A, 0);
    h.offer(B, 0);
    expect(h.request(C, 0, { canForward: false }).reply).toEqual({
      ok: true,
      value: { refused: 'last slots kept for nodes that can forward' },
    });
    h.offer(C, 0, { canForward: false, patient: true });
    h.offer('node-d', 0);
    expect(h.request('node-e', 0).reply).toEqual({ ok: true, value: { refused: 'no upload headroom' } });
  });
});

describe('TicketServer: offer TTL', () => {
  it('an unconfirmed offer lapses on its timer and frees its reservation', () => {
    const h = new Harness({ uploadLimitBps: MBIT });
    const offer = h.offer(A, 0);
    expect(h.request(B, 0).reply).toMatchObject({ value: { refused: 'no upload headroom' } });
    h.m.handle({ type: 'timer', timer: `offer:${offer.ticketId}` }, OFFER_TTL_MS);
    expect(h.m.served()).toEqual([]);
    expect(h.offer(B, OFFER_TTL_MS).ticketId).toBe('ticket-2');
    const late = h.confirm(offer.ticketId, A, OFFER_TTL_MS);
    expect(answerTo(late.effects, late.inbound)).toMatchObject({ ok: false, code: 'not-found' });
  });

  it('a confirm past the expiry is refused even if the timer is late', () => {
    const h = new Harness();
    const offer = h.offer(A, 0);
    const c = h.confirm(offer.ticketId, A, OFFER_TTL_MS + 1);
    expect(answerTo(c.effects, c.inbound)).toMatchObject({ ok: false, code: 'conflict' });
  });
});

describe('TicketServer: confirm', () => {
  it('has the relay admit the forward, then answers with a signed token naming the requester and its key', () => {
    const h = new Harness();
    const offer = h.offer(A, 0);
    const c = h.confirm(offer.ticketId, A, 100);
    expect(c.effects).toContainEqual({ kind: 'clear-timer', timer: `offer:${offer.ticketId}` });
    const [admit] = requestsOf(c.effects, RelayPatterns.AdmitForward);
    expect(admit).toMatchObject({
      to: NODE,
      body: { ticketId: offer.ticketId, streamId: STREAM, downstreamNodeId: A },
    });
    expect(answered(c.effects, c.inbound)).toBe(false);
    const done = h.m.handle({ type: 'reply', call: admit.call, value: { ok: true } }, 200);
    expect(answerTo(done, c.inbound)).toEqual({
      ok: true,
      value: { ticketId: offer.ticketId, token: `signed:${offer.ticketId}:${A}:key-${A}:${200 + TTL}` },
    });
    expect(done).toContainEqual({
      kind: 'publish',
      event: {
        type: 'ticket-created',
        ticketId: offer.ticketId,
        streamId: STREAM,
        direction: 'outgoing',
        peerId: A,
      },
    });
    expect(h.m.confirmedCount()).toBe(1);
    expect(h.m.list()[0]).toMatchObject({ state: 'confirmed', expiresAt: null, token: null });
  });

  it.each<
    [
      string,
      (h: Harness, id: string) => { inbound: number; effects: ReturnType<Harness['m']['handle']> },
      string,
    ]
  >([
    ['an unknown ticket', (h) => h.confirm('ticket-x', A, 0), 'not-found'],
    ["another node's ticket", (h, id) => h.confirm(id, B, 0), 'not-found'],
    ['a stream it no longer carries', (h, id) => h.confirm(id, A, 0, false), 'conflict'],
  ])('refuses %s', (_name, act, code) => {
    const h = new Harness();
    const offer = h.offer(A, 0);
    const c = act(h, offer.ticketId);
    expect(answerTo(c.effects, c.inbound)).toMatchObject({ ok: false, code });
    expect(h.m.served()).toHaveLength(1);
  });

  it('a failed admission refuses the confirm and frees the reservation', () => {
    const h = new Harness();
    const offer = h.offer(A, 0);
    const c = h.confirm(offer.ticketId, A, 0);
    const [admit] = requestsOf(c.effects, RelayPatterns.AdmitForward);
    const done = h.m.handle({ type: 'failed', call: admit.call, code: 'timeout', message: 'no reply' }, 10);
    expect(answerTo(done, c.inbound)).toMatchObject({ ok: false, code: 'unavailable' });
    expect(h.m.served()).toEqual([]);
  });

  it('a ticket cancelled while the relay admits it is revoked when the admission comes', () => {
    const h = new Harness();
    const offer = h.offer(A, 0);
    const c = h.confirm(offer.ticketId, A, 0);
    h.m.handle(
      { type: 'cancel', msg: { ticketId: offer.ticketId, requesterId: A, reason: 'other offer' } },
      5,
    );
    const [admit] = requestsOf(c.effects, RelayPatterns.AdmitForward);
    const done = h.m.handle({ type: 'reply', call: admit.call, value: { ok: true } }, 10);
    expect(requestsOf(done, RelayPatterns.RevokeForward)[0]).toMatchObject({
      body: { ticketId: offer.ticketId },
    });
    expect(answerTo(done, c.inbound)).toMatchObject({ ok: false, code: 'conflict' });
  });

  it('a confirm again (a lost reply) gets a fresh token for the same ticket', () => {
    const h = new Harness();
    const { ticketId } = h.confirmed(A, 0);
    const again = h.confirm(ticketId, A, 500);
    expect(answerTo(again.effects, again.inbound)).toMatchObject({ ok: true, value: { ticketId } });
    expect(requestsOf(again.effects, RelayPatterns.AdmitForward)).toEqual([]);
  });
});

describe('TicketServer: cancel', () => {
  it.each([
    ['its requester ends it, without a notice', A, 0],
    ['another node changes nothing', B, 1],
  ])('a cancel from %s', (_name, from, left) => {
    const h = new Harness();
    const { ticketId } = h.confirmed(A, 0);
    const effects = h.m.handle({ type: 'cancel', msg: { ticketId, requesterId: from, reason: 'bye' } }, 10);
    expect(h.m.confirmedCount()).toBe(left);
    expect(endedNotices(effects)).toEqual([]);
    expect(requestsOf(effects, RelayPatterns.RevokeForward)).toHaveLength(1 - left);
  });
});

describe('TicketServer: heartbeat', () => {
  it('answers with the current path; a fresh token once the current one is past half its life', () => {
    const h = new Harness();
    const { ticketId } = h.confirmed(A, 0);
    expect(h.heartbeat(ticketId, A, TTL / 2 - 1, [B, NODE])).toEqual({ ok: true, path: [B, NODE] });
    expect(h.heartbeat(ticketId, A, TTL / 2 + 1, [B, NODE])).toEqual({
      ok: true,
      path: [B, NODE],
      token: `signed:${ticketId}:${A}:key-${A}:${TTL / 2 + 1 + TTL}`,
    });
    expect(h.heartbeat(ticketId, A, TTL / 2 + 2, [NODE])).toEqual({ ok: true, path: [NODE] });
  });

  it.each([
    ['an offered ticket', false, A],
    ["another node's ticket", true, B],
  ])('is unknown for %s', (_name, confirm, from) => {
    const h = new Harness();
    const id = confirm ? h.confirmed(A, 0).ticketId : h.offer(A, 0).ticketId;
    expect(h.heartbeat(id, from, 10)).toEqual({ unknown: true });
  });
});
