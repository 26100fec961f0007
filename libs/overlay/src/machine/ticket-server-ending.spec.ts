import { AgentPatterns, RelayPatterns } from '@astral/contracts';
import {
  HB,
  Harness,
  MBIT,
  NODE,
  STREAM,
  answerTo,
  answered,
  endedNotices,
  requestsOf,
} from './ticket-server.fixture';
import { DRAIN_TIMER } from './ticket-server-types';

const A = 'node-a';
const B = 'node-b';
const C = 'node-c';

describe('TicketServer: expiry', () => {
  it.each([
    ['2 missed heartbeats', 2 * HB + 500, true, 1],
    ['exactly 3 intervals', 3 * HB, true, 1],
    ['3 missed heartbeats', 3 * HB + 1, true, 0],
    ['3 missed heartbeats while peers are not accountable', 3 * HB + 1, false, 1],
  ])('after %s', (_name, at, accountable, left) => {
    const h = new Harness();
    const { ticketId } = h.confirmed(A, 0);
    const effects = h.m.handle({ type: 'expiry-tick', accountable }, at);
    expect(h.m.confirmedCount()).toBe(left);
    if (left === 0)
      expect(endedNotices(effects)).toEqual([
        {
          to: A,
          ticketId,
          nodeId: NODE,
          streamId: STREAM,
          reason: 'ticket expired: the downstream missed 3 heartbeats',
        },
      ]);
  });

  it('restarts the clock after an outage: a tick while not accountable counts as a heartbeat', () => {
    const h = new Harness();
    h.confirmed(A, 0);
    h.m.handle({ type: 'expiry-tick', accountable: false }, 10 * HB);
    h.m.handle({ type: 'expiry-tick', accountable: true }, 12 * HB);
    expect(h.m.confirmedCount()).toBe(1);
    h.m.handle({ type: 'expiry-tick', accountable: true }, 13 * HB + 1);
    expect(h.m.confirmedCount()).toBe(0);
  });
});

describe('TicketServer: upload limit', () => {
  it('a lower limit ends the newest tickets that no longer fit, then tells the relay; answered when it has it', () => {
    const h = new Harness();
    const first = h.confirmed(A, 0).ticketId;
    const second = h.confirmed(B, 1).ticketId;
    const third = h.confirmed(C, 2).ticketId;
    const effects = h.m.handle(
      { type: 'set-limit', inbound: 99, limitBps: 1.5 * MBIT, rates: { streams: {}, playersBps: 0 } },
      10,
    );
    expect(endedNotices(effects).map((n) => n.ticketId)).toEqual([third, second]);
    expect(h.m.list().map((t) => t.ticketId)).toEqual([first]);
    expect(requestsOf(effects, RelayPatterns.SetUploadLimit)[0].body).toEqual({ uploadLimitBps: 1.5 * MBIT });
    expect(answered(effects, 99)).toBe(false);
    expect(answered(h.relayAnswers(effects, 20), 99)).toBe(true);
    expect(h.m.limitBps).toBe(1.5 * MBIT);
  });

  it('counts a ticket at the higher of its admitted and measured rate when shedding', () => {
    const h = new Harness();
    h.confirmed(A, 0);
    h.confirmed(B, 0);
    h.m.handle(
      { type: 'set-limit', limitBps: 2 * MBIT, rates: { streams: { [STREAM]: 1.2 * MBIT }, playersBps: 0 } },
      10,
    );
    expect(h.m.confirmedCount()).toBe(1);
  });

  it('unlimited tells the relay {} and ends nothing', () => {
    const h = new Harness();
    h.confirmed(A, 0);
    const effects = h.m.handle(
      { type: 'set-limit', limitBps: null, rates: { streams: {}, playersBps: 0 } },
      10,
    );
    expect(requestsOf(effects, RelayPatterns.SetUploadLimit)[0].body).toEqual({});
    expect(h.m.confirmedCount()).toBe(1);
  });
});

describe('TicketServer: ending', () => {
  it('end: the downstream is told, the event published, the forward revoked; answered true once it is', () => {
    const h = new Harness();
    const { ticketId } = h.confirmed(A, 0);
    const effects = h.m.handle(
      { type: 'end', inbound: 7, ticketId, reason: 'revoked by the node owner' },
      10,
    );
    expect(effects.filter((e) => e.kind === 'emit').map((e) => [e.pattern, e.to])).toEqual([
      [AgentPatterns.TicketEnded, A],
    ]);
    expect(effects).toContainEqual({
      kind: 'publish',
      event: {
        type: 'ticket-ended',
        ticketId,
        streamId: STREAM,
        direction: 'outgoing',
        reason: 'revoked by the node owner',
      },
    });
    expect(answerTo(h.relayAnswers(effects, 11), 7)).toEqual({ ok: true, value: true });
    expect(answerTo(h.m.handle({ type: 'end', inbound: 8, ticketId, reason: 'again' }, 12), 8)).toEqual({
      ok: true,
      value: false,
    });
  });

  it('end-stream ends only that stream’s tickets', () => {
    const h = new Harness({ uploadLimitBps: null });
    h.confirmed(A, 0);
    h.confirmed(B, 0, { streamId: 'stream-b' });
    h.m.handle({ type: 'end-stream', streamId: STREAM, reason: 'the stream ended' }, 10);
    expect(h.m.list().map((t) => t.streamId)).toEqual(['stream-b']);
  });

  it('forward-closed ends a confirmed ticket without telling anyone', () => {
    const h = new Harness();
    const { ticketId } = h.confirmed(A, 0);
    const effects = h.m.handle({ type: 'forward-closed', ticketId, reason: 'downstream gone' }, 10);
    expect(endedNotices(effects)).toEqual([]);
    expect(h.m.confirmedCount()).toBe(0);
  });

  it('relay-ready replays the limit and every confirmed admission', () => {
    const h = new Harness();
    const { ticketId } = h.confirmed(A, 0);
    h.offer(B, 0);
    const effects = h.m.handle({ type: 'relay-ready', inbound: 5 }, 10);
    expect(requestsOf(effects, RelayPatterns.SetUploadLimit)[0].body).toEqual({ uploadLimitBps: 4 * MBIT });
    expect(requestsOf(effects, RelayPatterns.AdmitForward).map((r) => r.body)).toEqual([
      { ticketId, streamId: STREAM, downstreamNodeId: A },
    ]);
    expect(answered(h.relayAnswers(effects, 11), 5)).toBe(true);
  });
});

describe('TicketServer: drain (graceful leave)', () => {
  it('tells every downstream, refuses new requests, and finishes once they have all cancelled', () => {
    const h = new Harness();
    const a = h.confirmed(A, 0).ticketId;
    const b = h.confirmed(B, 0).ticketId;
    const start = h.m.handle({ type: 'drain', inbound: 9, reason: 'leaving', timeoutMs: 3000 }, 10);
    expect(endedNotices(start).map((n) => [n.to, n.reason])).toEqual([
      [A, 'leaving'],
      [B, 'leaving'],
    ]);
    expect(start).toContainEqual({ kind: 'set-timer', timer: DRAIN_TIMER, afterMs: 3000 });
    expect(h.request(C, 20).reply).toEqual({ ok: true, value: { refused: 'this node is leaving' } });
    h.relayAnswers(
      h.m.handle({ type: 'cancel', msg: { ticketId: a, requesterId: A, reason: 'leaving' } }, 30),
      30,
    );
    const last = h.m.handle({ type: 'cancel', msg: { ticketId: b, requesterId: B, reason: 'leaving' } }, 40);
    expect(last).toContainEqual({ kind: 'clear-timer', timer: DRAIN_TIMER });
    expect(answered([...last, ...h.relayAnswers(last, 41)], 9)).toBe(true);
  });

  it('at the deadline ends the tickets still attached', () => {
    const h = new Harness();
    h.confirmed(A, 0);
    h.m.handle({ type: 'drain', inbound: 9, reason: 'leaving', timeoutMs: 3000 }, 10);
    const done = h.m.handle({ type: 'timer', timer: DRAIN_TIMER }, 3010);
    expect(h.m.confirmedCount()).toBe(0);
    expect(answered(h.relayAnswers(done, 3011), 9)).toBe(true);
  });

  it('with nobody attached answers at once', () => {
    const h = new Harness();
    expect(
      answered(h.m.handle({ type: 'drain', inbound: 9, reason: 'leaving', timeoutMs: 3000 }, 0), 9),
    ).toBe(true);
  });
});
