import { AgentPatterns, DirectoryPatterns, RelayPatterns } from '@astral/contracts';
import type { EmitEffect, RequestEffect } from './effects';
import { FakeNetwork, SELF, SOURCE, STREAM, upstream } from './watch-fake-network';

const A = 'node-a';
const B = 'node-b';
const C = 'node-c';

/** A source with children A and B, and C below A. */
const tree = () => [upstream(A, [SOURCE, A]), upstream(B, [SOURCE, B]), upstream(C, [SOURCE, A, C])];

const body = (e: unknown) => (e as RequestEffect | EmitEffect).body as Record<string, unknown>;

describe('WatchMachine: acquiring', () => {
  it('asks carriers, confirms the nearest offer, opens the pull, tells the directory and answers', () => {
    const net = new FakeNetwork({}, tree());
    const inbound = net.watch();
    net.run(100);
    expect(net.answers.get(inbound)).toEqual({
      ok: true,
      value: { streamId: STREAM, seed: false, upstreamNodeId: A, hops: 2 },
    });
    expect(net.held().path).toEqual([SOURCE, A, SELF]);
    expect(net.relay.primary).toBe(A);
    const carrying = net.requests(DirectoryPatterns.Carrying).map(body);
    expect(carrying).toEqual([{ streamId: STREAM, nodeId: SELF, hops: 2, carrying: true }]);
    // The offers not chosen (the source's, B's and C's) are given back at once.
    const cancelled = net.requests(AgentPatterns.TicketCancel).map((e) => (e as EmitEffect).to);
    expect(cancelled.sort()).toEqual([SOURCE, B, C].sort());
  });

  it.each([
    ['every carrier full', [upstream(A, [SOURCE, A], 0)], 0],
    ['no carrier and a full source', [], 0],
  ])('with %s, answers no-capacity within 10 s and keeps trying until capacity comes', (_, ups, cap) => {
    const net = new FakeNetwork({}, ups);
    net.nodes.get(SOURCE)!.capacity = cap;
    const inbound = net.watch();
    net.run(10_000);
    const a = net.answers.get(inbound)!;
    expect(a.ok).toBe(false);
    expect(a.code).toBe('no-capacity');
    expect(a.message).toMatch(/^no node could forward stream stream-one within 10 s \(/);
    expect(net.machine.acquiring().map((s) => s.streamId)).toEqual([STREAM]);
    net.run(60_000); // still nothing: it keeps asking, at most every few seconds
    const asked = net.requests(AgentPatterns.TicketRequest).length;
    expect(asked).toBeGreaterThan(20);
    net.nodes.get(SOURCE)!.capacity = 1;
    net.run(5_000);
    expect(net.held().primary).toBe(SOURCE);
    expect(net.machine.acquiring()).toEqual([]);
  });

  it('refuses a watch of a stream that is not live, and keeps nothing', () => {
    const net = new FakeNetwork({}, tree());
    net.streamStatus = 'ended';
    const inbound = net.watch();
    net.run(100);
    expect(net.answers.get(inbound)).toMatchObject({ ok: false, code: 'conflict' });
    expect(net.machine.acquiring()).toEqual([]);
  });

  it('refuses an offer whose address is not the listed one, and cancels it', () => {
    const liar = upstream(A, [SOURCE, A]);
    liar.host = 'evil.example';
    const net = new FakeNetwork({}, [liar, upstream(B, [SOURCE, B])]);
    net.watch();
    net.run(100);
    expect(net.held().primary).toBe(B);
    const cancels = net.requests(AgentPatterns.TicketCancel).map(body);
    expect(cancels.some((c) => String(c.reason).startsWith('offer refused'))).toBe(true);
  });

  it('stops trying when the viewer stops watching while acquiring', () => {
    const net = new FakeNetwork({}, []);
    net.nodes.get(SOURCE)!.capacity = 0;
    net.watch();
    net.run(3000);
    const stopped = net.stop();
    expect(net.answers.get(stopped)).toEqual({ ok: true, value: true });
    const before = net.sent.length;
    net.run(60_000);
    expect(net.sent.length).toBe(before);
    expect(net.timers.size).toBe(0);
  });

  it('stop watching gives the ticket back, closes the pull and tells the directory', () => {
    const net = new FakeNetwork({}, tree());
    net.watch();
    net.run(100);
    net.stop();
    net.run(100);
    expect(net.relay.primary).toBeNull();
    expect(net.nodes.get(A)!.tickets.size).toBe(0);
    expect(net.requests(DirectoryPatterns.Carrying).map(body).pop()).toMatchObject({ carrying: false });
    expect(net.machine.carried()).toEqual([]);
    expect(net.timers.size).toBe(0);
  });
});

describe('WatchMachine: heartbeats and failover', () => {
  const holding = () => {
    const net = new FakeNetwork({}, tree());
    net.watch();
    net.run(100);
    expect(net.held().primary).toBe(A);
    return net;
  };

  it.each([
    [1, A],
    [2, A],
    [3, B],
  ])('after %i missed heartbeats in a row the upstream is %s', (misses, expected) => {
    const net = holding();
    net.nodes.get(A)!.answersHeartbeats = false;
    net.run(misses * 1000 + 10);
    net.nodes.get(A)!.answersHeartbeats = true;
    net.nodes.get(A)!.alive = misses < 3;
    net.run(2000);
    expect(net.held().primary).toBe(expected);
  });

  it('counts no miss while peers are not accountable (Redis away)', () => {
    const net = holding();
    net.feed({ type: 'facts', facts: { peersAccountable: false } });
    net.nodes.get(A)!.answersHeartbeats = false;
    net.run(10_000);
    expect(net.held().primary).toBe(A);
  });

  it('keeps the fresh token from a heartbeat in the forward URL', () => {
    const net = holding();
    net.nodes.get(A)!.heartbeatToken = 'fresh';
    net.run(1100);
    expect(net.machine.carried()[0].forwardUrl).toMatch(/ticket=fresh$/);
  });

  it('follows the upstream path and tells the directory the new hop count', () => {
    const net = holding();
    net.nodes.get(A)!.heartbeatPath = [SOURCE, B, A];
    net.run(1100);
    expect(net.held().path).toEqual([SOURCE, B, A, SELF]);
    expect(net.requests(DirectoryPatterns.Carrying).map(body).pop()).toMatchObject({ hops: 3 });
  });

  it('re-parents at once when it finds itself on its upstream path (a loop)', () => {
    const net = holding();
    net.nodes.get(A)!.heartbeatPath = [SOURCE, SELF, A];
    net.run(1100);
    expect(net.held().primary).toBe(B);
  });

  it('fails over on a relay upstream-lost, make before break: the old ticket goes after the switch', () => {
    const net = holding();
    net.nodes.get(A)!.alive = false;
    net.feed({
      type: 'upstream-lost',
      msg: { nodeId: SELF, streamId: STREAM, upstreamNodeId: A, reason: 'stalled' },
    });
    net.run(100);
    expect(net.held().primary).toBe(B);
    const order = net.sent
      .map((e) =>
        e.kind === 'request' && e.pattern === RelayPatterns.OpenUpstream
          ? `open:${String(body(e).upstreamNodeId)}`
          : e.kind === 'emit' && e.pattern === AgentPatterns.TicketCancel && e.to === A
            ? 'cancel:A'
            : null,
      )
      .filter((x) => x !== null);
    expect(order.slice(-2)).toEqual([`open:${B}`, 'cancel:A']);
    expect(net.sent.some((e) => e.kind === 'publish' && e.event.type === 'upstream-switched')).toBe(true);
  });

  it('fails over with the directory down: the source it listed before serves', () => {
    const net = holding();
    net.directoryUp = false;
    net.nodes.get(A)!.alive = false;
    net.feed({
      type: 'upstream-lost',
      msg: { nodeId: SELF, streamId: STREAM, upstreamNodeId: A, reason: 'x' },
    });
    net.run(100);
    expect(net.held().primary).toBe(SOURCE);
  });

  it('fails over without cancelling when the upstream ended the ticket itself', () => {
    const net = holding();
    const ticketId = net.machine.carried()[0].ticketId!;
    const cancelsBefore = net.requests(AgentPatterns.TicketCancel).length;
    net.feed({ type: 'ticket-ended', msg: { ticketId, nodeId: A, streamId: STREAM, reason: 'leaving' } });
    net.run(100);
    expect(net.held().primary).toBe(B);
    const cancels = net.requests(AgentPatterns.TicketCancel).slice(cancelsBefore);
    expect(cancels.some((e) => (e as EmitEffect).to === A)).toBe(false);
  });

  it('retries a failover until it holds, and drops a stream that ended meanwhile', () => {
    const net = holding();
    for (const n of net.nodes.values()) n.alive = n.nodeId === A;
    net.nodes.get(A)!.alive = false;
    net.feed({
      type: 'upstream-lost',
      msg: { nodeId: SELF, streamId: STREAM, upstreamNodeId: A, reason: 'x' },
    });
    net.run(30_000);
    expect(net.held().primary).toBe(A); // still the old one: nobody else answers
    expect(net.machine.failingOver()).toEqual([STREAM]);
    net.nodes.get(B)!.alive = true;
    net.run(5_000);
    expect(net.held().primary).toBe(B);
    expect(net.machine.failingOver()).toEqual([]);
    net.streamStatus = 'ended';
    net.nodes.get(B)!.alive = false;
    net.feed({
      type: 'upstream-lost',
      msg: { nodeId: SELF, streamId: STREAM, upstreamNodeId: B, reason: 'x' },
    });
    net.run(100);
    expect(net.machine.carried()).toEqual([]);
  });
});

describe('WatchMachine: the relay and leaving', () => {
  it.each([
    ['off', [A]],
    ['players', [A, B]],
  ] as const)('with standby %s, a relay that restarted gets its pulls again', (standby, expected) => {
    const net = new FakeNetwork({ standby }, tree());
    net.watch();
    net.run(100);
    net.relay.opened.length = 0;
    net.feed({ type: 'relay-ready' });
    net.run(10);
    expect(net.relay.opened).toEqual(expected);
  });

  it('leave gives every ticket back and sends no more heartbeats', () => {
    const net = new FakeNetwork({ standby: 'players' }, tree());
    net.watch();
    net.run(100);
    net.feed({ type: 'facts', facts: { leaving: true } });
    net.feed({ type: 'leave' });
    const heartbeats = net.requests(AgentPatterns.TicketHeartbeat).length;
    net.run(10_000);
    expect(net.requests(AgentPatterns.TicketHeartbeat).length).toBe(heartbeats);
    expect(net.nodes.get(A)!.tickets.size + net.nodes.get(B)!.tickets.size).toBe(0);
    const inbound = net.watch();
    expect(net.answers.get(inbound)).toMatchObject({ ok: false, code: 'unavailable' });
  });

  it('forgets a stream the relay ended, and says so', () => {
    const net = holdingPlain();
    net.feed({ type: 'relay-stream-ended', streamId: STREAM });
    expect(net.machine.carried()).toEqual([]);
    expect(net.sent.some((e) => e.kind === 'publish' && e.event.type === 'stream-ended')).toBe(true);
  });
});

function holdingPlain(): FakeNetwork {
  const net = new FakeNetwork({}, tree());
  net.watch();
  net.run(100);
  return net;
}
