import fc from 'fast-check';
import { AgentPatterns, DirectoryPatterns, TicketCancel } from '@astral/contracts';
import { CommonInput, Effect, OverlayMachine, emitEffect, requestEffect } from '@astral/overlay';
import { EventQueue } from './event-queue';
import { SimDriver, newCounters } from './sim-driver';
import { SimEndpoint, SimNetwork, SimReply } from './sim-network';

type Seen = { at: number; input: CommonInput | Toy };
type Toy = { type: 'go'; effects: Effect[] } | { type: 'ask'; inbound: number };

/** A machine that does what its `go` input says and records every input with the time it came. */
class Recorder implements OverlayMachine<Toy> {
  readonly seen: Seen[] = [];
  constructor(private readonly onAsk: (inbound: number) => Effect[] = () => []) {}
  handle(input: Toy | CommonInput, now: number): Effect[] {
    this.seen.push({ at: now, input });
    if (input.type === 'go') return input.effects;
    if (input.type === 'ask') return this.onAsk(input.inbound);
    return [];
  }
}

/** Nodes on a line: a at 0, b at 10, c at 40 (one-way latency = distance), the directory at 5. */
const position: Record<string, number> = { a: 0, b: 10, c: 40, '': 5 };
const where = (id: string | null) => position[id ?? ''] ?? 0;

function world() {
  const q = new EventQueue();
  const net = new SimNetwork(q, { oneWayMs: (f, t) => Math.abs(where(f) - where(t)) });
  return { q, net };
}

/** An endpoint that answers every request with its own name, after `delayMs` (0: at once). */
function answering(name: string, q: EventQueue, delayMs = 0): SimEndpoint & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    request: (_p, _b, _from, answer) => {
      const reply: SimReply = { ok: true, value: name };
      if (delayMs === 0) answer(reply);
      else q.after(delayMs, () => answer(reply));
    },
    event: (p) => events.push(`${p}@${q.now}`),
  };
}

const ticket = (call: number, to: string, timeoutMs = 1000) =>
  requestEffect(call, AgentPatterns.TicketRequest, to, { streamId: 's', requesterId: 'a' }, timeoutMs);

describe('SimDriver', () => {
  it('delivers requests after the one-way latency and the replies in order of their round trips', () => {
    const { q, net } = world();
    const m = new Recorder();
    const d = new SimDriver(m, 'a', net, newCounters(), { rttTo: () => null });
    net.attach('a', answering('a', q));
    net.attach('b', answering('b', q));
    net.attach('c', answering('c', q));
    d.feed({ type: 'go', effects: [ticket(1, 'c'), ticket(2, 'b')] });
    q.run();
    expect(m.seen.slice(1)).toEqual([
      { at: 20, input: { type: 'reply', call: 2, value: 'b' } },
      { at: 80, input: { type: 'reply', call: 1, value: 'c' } },
    ]);
    expect(net.messages.get(AgentPatterns.TicketRequest)).toBe(4); // two requests, two replies
  });

  it('fails a request with timeout after timeoutMs when the target is gone, dies, or answers too late', () => {
    const { q, net } = world();
    const m = new Recorder();
    const d = new SimDriver(m, 'a', net, newCounters(), { rttTo: () => null });
    net.attach('a', answering('a', q));
    net.attach('b', answering('b', q, 5000)); // answers after the deadline
    net.attach('c', answering('c', q));
    d.feed({ type: 'go', effects: [ticket(1, 'nobody', 300), ticket(2, 'b', 700), ticket(3, 'c', 1000)] });
    q.after(10, () => net.detach('c')); // c dies before the request reaches it (at 40)
    q.run();
    const failures = m.seen.filter((s) => s.input.type === 'failed');
    expect(failures.map((s) => [s.at, (s.input as { call: number }).call])).toEqual([
      [300, 1],
      [700, 2],
      [1000, 3],
    ]);
    expect(failures.every((s) => (s.input as { code: string }).code === 'timeout')).toBe(true);
    expect(m.seen.some((s) => s.input.type === 'reply')).toBe(false); // b's late answer is dropped
  });

  it('routes the directory (to = null) and emits one-way, dropping an event to a gone node', () => {
    const { q, net } = world();
    const m = new Recorder();
    const d = new SimDriver(m, 'a', net, newCounters(), { rttTo: () => null });
    const dir = answering('directory', q);
    const b = answering('b', q);
    net.attach(null, dir);
    net.attach('b', b);
    net.attach('a', answering('a', q));
    d.feed({
      type: 'go',
      effects: [
        requestEffect(1, DirectoryPatterns.ListCarriers, null, { streamId: 's' }, 1000),
        emitEffect(AgentPatterns.TicketCancel, 'b', { ticketId: 't', requesterId: 'a' } as TicketCancel),
        emitEffect(AgentPatterns.TicketCancel, 'c', { ticketId: 't', requesterId: 'a' } as TicketCancel),
      ],
    });
    q.run();
    expect(m.seen[1]).toEqual({ at: 10, input: { type: 'reply', call: 1, value: 'directory' } });
    expect(b.events).toEqual([`${AgentPatterns.TicketCancel}@10`]);
  });

  it('answers an inbound request when the machine answers it, now or later', () => {
    const { q, net } = world();
    const later = new Recorder((inbound) => [
      { kind: 'set-timer', timer: `answer-${inbound}`, afterMs: 50 },
      ...(inbound === 1
        ? [{ kind: 'answer' as const, inbound, reply: { ok: true as const, value: 'now' } }]
        : []),
    ]);
    const d = new SimDriver(later, 'b', net, newCounters(), { rttTo: () => null });
    const got: SimReply[] = [];
    d.ask(
      (inbound) => ({ type: 'ask', inbound }),
      (r) => got.push(r),
    );
    d.ask(
      (inbound) => ({ type: 'ask', inbound }),
      (r) => got.push(r),
    );
    expect(got).toEqual([{ ok: true, value: 'now' }]);
    d.stop(); // the second one was never answered: refused on stop
    expect(got[1]).toMatchObject({ ok: false, code: 'unavailable' });
    q.run();
    expect(later.seen.filter((s) => s.input.type === 'timer')).toEqual([]); // stopped: no timer fires
  });

  it('runs timers on the simulated clock: a set replaces one of the same name, a clear cancels it', () => {
    const { q, net } = world();
    const m = new Recorder();
    const d = new SimDriver(m, 'a', net, newCounters(), { rttTo: () => null });
    d.feed({
      type: 'go',
      effects: [
        { kind: 'set-timer', timer: 'x', afterMs: 100 },
        { kind: 'set-timer', timer: 'y', afterMs: 30 },
        { kind: 'set-timer', timer: 'z', afterMs: 60 },
      ],
    });
    q.after(20, () => d.feed({ type: 'go', effects: [{ kind: 'set-timer', timer: 'x', afterMs: 10 }] }));
    q.after(40, () => d.feed({ type: 'go', effects: [{ kind: 'clear-timer', timer: 'z' }] }));
    q.run();
    const fired = m.seen
      .filter((s) => s.input.type === 'timer')
      .map((s) => [s.at, (s.input as { timer: string }).timer]);
    // Both at 30: y was armed first, so it fires first (ties in arming order).
    expect(fired).toEqual([
      [30, 'y'],
      [30, 'x'],
    ]);
    expect(d.armedTimers()).toEqual([]);
  });

  it('answers an RTT probe after one round trip, or null after the probe timeout', () => {
    const { q, net } = world();
    const m = new Recorder();
    const d = new SimDriver(m, 'a', net, newCounters(), {
      rttTo: (host) => (host === 'near' ? 12 : host === 'far' ? 900 : null),
    });
    d.feed({
      type: 'go',
      effects: [
        { kind: 'measure-rtt', call: 1, host: 'near', port: 1 },
        { kind: 'measure-rtt', call: 2, host: 'far', port: 1 },
        { kind: 'measure-rtt', call: 3, host: 'gone', port: 1 },
      ],
    });
    q.run();
    expect(m.seen.slice(1)).toEqual([
      { at: 12, input: { type: 'rtt', call: 1, rttMs: 12 } },
      { at: 500, input: { type: 'rtt', call: 2, rttMs: null } },
      { at: 500, input: { type: 'rtt', call: 3, rttMs: null } },
    ]);
  });

  it('property: every request is settled exactly once, by its deadline, whatever the answer delays', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ delay: fc.nat(2000), timeout: fc.integer({ min: 1, max: 2000 }), dies: fc.boolean() }),
          {
            minLength: 1,
            maxLength: 20,
          },
        ),
        (calls) => {
          const { q, net } = world();
          const m = new Recorder();
          const d = new SimDriver(m, 'a', net, newCounters(), { rttTo: () => null });
          net.attach('a', answering('a', q));
          calls.forEach((c, i) => net.attach(`n${i}`, answering(`n${i}`, q, c.delay)));
          d.feed({ type: 'go', effects: calls.map((c, i) => ticket(i + 1, `n${i}`, c.timeout)) });
          calls.forEach((c, i) => c.dies && q.after(c.delay / 2, () => net.detach(`n${i}`)));
          q.run();
          const settled = m.seen.filter((s) => s.input.type === 'reply' || s.input.type === 'failed');
          expect(settled).toHaveLength(calls.length);
          for (const s of settled) {
            const call = (s.input as { call: number }).call;
            expect(s.at).toBeLessThanOrEqual(calls[call - 1].timeout);
          }
        },
      ),
    );
  });
});
