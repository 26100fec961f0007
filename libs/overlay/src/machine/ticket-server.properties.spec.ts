import fc from 'fast-check';
import { RelayPatterns } from '@astral/contracts';
import { committedBps } from '../headroom';
import { RequestEffect } from './effects';
import { HB, Harness, MBIT, NODE, answerTo, requestsOf } from './ticket-server.fixture';
import { MISSED_HEARTBEATS, OFFER_TTL_MS, RelayRates } from './ticket-server-types';

const REQUESTERS = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'];
const STREAMS = ['s0', 's1', 's2'];

type Cmd =
  | { k: 'request'; r: number; s: number; canForward: boolean; patient: boolean }
  | { k: 'confirm'; i: number }
  | { k: 'relay'; i: number; ok: boolean }
  | { k: 'cancel'; i: number; own: boolean }
  | { k: 'limit'; limit: number | null }
  | { k: 'rate'; s: number; bps: number }
  | { k: 'players'; bps: number }
  | { k: 'lapse'; i: number }
  | { k: 'tick'; dt: number; accountable: boolean };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    arbitrary: fc.record({
      k: fc.constant('request' as const),
      r: fc.nat(5),
      s: fc.nat(2),
      canForward: fc.boolean(),
      patient: fc.boolean(),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ k: fc.constant('confirm' as const), i: fc.nat(30) }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('relay' as const), i: fc.nat(30), ok: fc.boolean() }), weight: 3 },
  {
    arbitrary: fc.record({ k: fc.constant('cancel' as const), i: fc.nat(30), own: fc.boolean() }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      k: fc.constant('limit' as const),
      limit: fc.option(fc.integer({ min: 0, max: 10 * MBIT })),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      k: fc.constant('rate' as const),
      s: fc.nat(2),
      bps: fc.integer({ min: 0, max: 3 * MBIT }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ k: fc.constant('players' as const), bps: fc.integer({ min: 0, max: 4 * MBIT }) }),
    weight: 1,
  },
  { arbitrary: fc.record({ k: fc.constant('lapse' as const), i: fc.nat(30) }), weight: 1 },
  {
    arbitrary: fc.record({
      k: fc.constant('tick' as const),
      dt: fc.integer({ min: 0, max: 2 * HB }),
      accountable: fc.boolean(),
    }),
    weight: 1,
  },
);

describe('TicketServer properties', () => {
  it('committed (offered + confirmed) never exceeds the upload limit, whatever the sequence', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 0, max: 8 * MBIT })),
        fc.array(cmd, { maxLength: 60 }),
        (start, cmds) => {
          const h = new Harness({ uploadLimitBps: start });
          const streams: Record<string, number> = { s0: MBIT, s1: 1.5 * MBIT, s2: 0 };
          let players = 0;
          let limit = start;
          let now = 0;
          const offers: { ticketId: string; requesterId: string }[] = [];
          let relay: RequestEffect[] = [];
          const rates = (): RelayRates => ({ streams: { ...streams }, playersBps: players });
          const committedNow = () => committedBps(h.m.served(), (id) => streams[id] ?? 0);
          const track = (effects: ReturnType<typeof h.m.handle>) =>
            relay.push(...effects.filter((e): e is RequestEffect => e.kind === 'request' && e.to === NODE));
          for (const c of cmds) {
            now += 10;
            switch (c.k) {
              case 'request': {
                const r = REQUESTERS[c.r];
                const { reply, effects } = h.request(r, now, {
                  streamId: STREAMS[c.s],
                  canForward: c.canForward,
                  patient: c.patient,
                  rates: rates(),
                });
                track(effects);
                if (reply.ok && 'offer' in (reply.value as object)) {
                  offers.push({
                    ticketId: (reply.value as { offer: { ticketId: string } }).offer.ticketId,
                    requesterId: r,
                  });
                  // An offer is made only into what is left of the limit, players included.
                  if (limit !== null) expect(committedNow() + players).toBeLessThanOrEqual(limit);
                }
                break;
              }
              case 'confirm': {
                const o = offers[c.i % Math.max(1, offers.length)];
                if (o) track(h.confirm(o.ticketId, o.requesterId, now).effects);
                break;
              }
              case 'relay': {
                const r = relay[c.i % Math.max(1, relay.length)];
                if (!r) break;
                relay = relay.filter((x) => x !== r);
                track(
                  h.m.handle(
                    c.ok
                      ? { type: 'reply', call: r.call, value: { ok: true } }
                      : { type: 'failed', call: r.call, code: 'unavailable', message: 'relay away' },
                    now,
                  ),
                );
                break;
              }
              case 'cancel': {
                const o = offers[c.i % Math.max(1, offers.length)];
                if (o)
                  track(
                    h.m.handle(
                      {
                        type: 'cancel',
                        msg: {
                          ticketId: o.ticketId,
                          requesterId: c.own ? o.requesterId : 'stranger',
                          reason: 'x',
                        },
                      },
                      now,
                    ),
                  );
                break;
              }
              case 'limit':
                limit = c.limit;
                track(h.m.handle({ type: 'set-limit', limitBps: c.limit, rates: rates() }, now));
                if (limit !== null) expect(committedNow()).toBeLessThanOrEqual(limit);
                break;
              case 'rate':
                streams[STREAMS[c.s]] = c.bps;
                break;
              case 'players':
                players = c.bps;
                break;
              case 'lapse': {
                const o = offers[c.i % Math.max(1, offers.length)];
                if (o) track(h.m.handle({ type: 'timer', timer: `offer:${o.ticketId}` }, now));
                break;
              }
              case 'tick':
                now += c.dt;
                track(h.m.handle({ type: 'expiry-tick', accountable: c.accountable }, now));
                break;
            }
            // The rates tickets were admitted at never sum above the limit, whatever the measured rates do.
            if (limit !== null) {
              const admitted = h.m.served().reduce((sum, t) => sum + t.bitrateBps, 0);
              expect(admitted).toBeLessThanOrEqual(limit);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a confirmed ticket ends after 3 missed heartbeats (never after 2, never while not accountable)', () => {
    const step = fc.record({
      dt: fc.integer({ min: 1, max: 4 * HB }),
      beat: fc.boolean(),
      accountable: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const h = new Harness();
        const { ticketId } = h.confirmed('r0', 0);
        let now = 0;
        let last = 0;
        let alive = true;
        for (const s of steps) {
          now += s.dt;
          if (s.beat && alive) {
            expect(h.heartbeat(ticketId, 'r0', now)).toMatchObject({ ok: true });
            last = now;
          }
          h.m.handle({ type: 'expiry-tick', accountable: s.accountable }, now);
          if (!s.accountable) last = Math.max(last, now);
          else if (alive && now - last > MISSED_HEARTBEATS * HB) alive = false;
          expect(h.m.confirmedCount()).toBe(alive ? 1 : 0);
        }
      }),
    );
  });

  it('an offer unconfirmed for OFFER_TTL_MS lapses and frees its reservation', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 * OFFER_TTL_MS }), fc.boolean(), (confirmAt, timerFirst) => {
        const h = new Harness({ uploadLimitBps: MBIT });
        const offer = h.offer('r0', 0);
        const timer = () => h.m.handle({ type: 'timer', timer: `offer:${offer.ticketId}` }, OFFER_TTL_MS);
        // Events in time order: a confirm before the TTL comes before its timer; at or after it, the timer
        // may fire first, or late (a held-up loop), after the confirm.
        const timerBefore = confirmAt >= OFFER_TTL_MS && timerFirst;
        if (timerBefore) timer();
        const c = h.confirm(offer.ticketId, 'r0', confirmAt);
        const admit = requestsOf(c.effects, RelayPatterns.AdmitForward)[0];
        if (admit) h.m.handle({ type: 'reply', call: admit.call, value: { ok: true } }, confirmAt);
        if (!timerBefore) timer();
        const inTime = confirmAt < OFFER_TTL_MS || (confirmAt === OFFER_TTL_MS && !timerFirst);
        expect(h.m.confirmedCount()).toBe(inTime ? 1 : 0);
        expect(h.m.served()).toHaveLength(inTime ? 1 : 0);
        if (!inTime) {
          expect(answerTo(c.effects, c.inbound)).toMatchObject({ ok: false });
          // The reservation is free: another requester gets the one slot.
          expect(h.offer('r1', OFFER_TTL_MS).streamId).toBe(offer.streamId);
        }
      }),
    );
  });

  it('never offers to a requester on its own path (no loops)', () => {
    const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e', NODE);
    fc.assert(
      fc.property(fc.uniqueArray(ids, { maxLength: 5 }), ids, (above, requester) => {
        const path = [...above.filter((n) => n !== NODE), NODE];
        const h = new Harness({ uploadLimitBps: null });
        const { reply } = h.request(requester, 0, { path, hops: path.length });
        const value = (reply.ok ? reply.value : {}) as { offer?: { path: string[] }; refused?: string };
        if (path.includes(requester)) {
          expect(value).toEqual({ refused: 'the requester is upstream of this node (a loop)' });
          expect(h.m.served()).toEqual([]);
        } else {
          expect(value.offer?.path).not.toContain(requester);
        }
      }),
    );
  });

  it("a cancel from a node that is not the ticket's requester changes nothing; its own cancel ends it", () => {
    const stage = fc.constantFrom('offered', 'confirming', 'confirmed');
    fc.assert(
      fc.property(stage, fc.constantFrom('r1', 'r2', NODE), (at, stranger) => {
        const h = new Harness();
        let ticketId: string;
        if (at === 'confirmed') ticketId = h.confirmed('r0', 0).ticketId;
        else {
          ticketId = h.offer('r0', 0).ticketId;
          if (at === 'confirming') h.confirm(ticketId, 'r0', 0);
        }
        const before = h.m.list();
        const revision = h.m.revision;
        expect(
          h.m.handle({ type: 'cancel', msg: { ticketId, requesterId: stranger, reason: 'x' } }, 10),
        ).toEqual([]);
        expect(h.m.list()).toEqual(before);
        expect(h.m.revision).toBe(revision);
        h.m.handle({ type: 'cancel', msg: { ticketId, requesterId: 'r0', reason: 'x' } }, 10);
        expect(h.m.list()).toEqual([]);
      }),
    );
  });
});
