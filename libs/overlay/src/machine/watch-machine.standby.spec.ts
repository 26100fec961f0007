import { AgentPatterns, RelayPatterns } from '@astral/contracts';
import type { EmitEffect, RequestEffect } from './effects';
import { FakeNetwork, SELF, SOURCE, STREAM, upstream } from './watch-fake-network';
import { STANDBY_UPGRADE_MS } from './watch-core';

const A = 'node-a';
const B = 'node-b';
const C = 'node-c';

/** A source with children A and B, and C below A. */
const tree = () => [upstream(A, [SOURCE, A]), upstream(B, [SOURCE, B]), upstream(C, [SOURCE, A, C])];

const body = (e: unknown) => (e as RequestEffect | EmitEffect).body as Record<string, unknown>;

describe('WatchMachine: warm standby', () => {
  const standby = (mode: 'players' | 'forwards' = 'players') => {
    const net = new FakeNetwork({ standby: mode }, tree());
    net.watch();
    net.run(100);
    return net;
  };

  it('holds a second ticket on a disjoint path, opened as the standby', () => {
    const net = standby();
    expect(net.held()).toMatchObject({ primary: A, standby: B, standbyPath: [SOURCE, B, SELF] });
    const open = net.requests(RelayPatterns.OpenUpstream).map(body).pop();
    expect(open).toMatchObject({ upstreamNodeId: B, role: 'standby', standbyMode: 'receiving' });
  });

  it('takes a non-disjoint standby when the tree allows no other', () => {
    const net = new FakeNetwork({ standby: 'players' }, [
      upstream(A, [SOURCE, A]),
      upstream(C, [SOURCE, A, C]),
    ]);
    net.nodes.get(SOURCE)!.capacity = 0;
    net.watch();
    net.run(100);
    expect(net.held()).toMatchObject({ primary: A, standby: C });
  });

  it('replaces a non-disjoint standby with a disjoint one once one has room', () => {
    const net = new FakeNetwork({ standby: 'players' }, [
      upstream(A, [SOURCE, A]),
      upstream(B, [SOURCE, B], 0),
      upstream(C, [SOURCE, A, C]),
    ]);
    net.nodes.get(SOURCE)!.capacity = 0;
    net.watch();
    net.run(100);
    expect(net.held()).toMatchObject({ primary: A, standby: C });
    net.nodes.get(B)!.capacity = 4;
    net.run(STANDBY_UPGRADE_MS + 1000);
    expect(net.held()).toMatchObject({ primary: A, standby: B });
    expect(net.nodes.get(C)!.tickets.size).toBe(0);
    expect(net.relay.standby).toBe(B);
  });

  it('keeps the non-disjoint standby while no disjoint one is offered', () => {
    const D = 'node-d';
    const net = new FakeNetwork({ standby: 'players' }, [
      upstream(A, [SOURCE, A]),
      upstream(C, [SOURCE, A, C]),
      upstream(D, [SOURCE, A, D]),
    ]);
    net.nodes.get(SOURCE)!.capacity = 0;
    net.watch();
    net.run(100);
    const first = net.held().standby;
    expect([C, D]).toContain(first);
    net.run(3 * STANDBY_UPGRADE_MS);
    expect(net.held()).toMatchObject({ primary: A, standby: first });
    // The upgrade rounds' offers were given back: only the held standby's ticket remains below A.
    expect(net.nodes.get(C)!.tickets.size + net.nodes.get(D)!.tickets.size).toBe(1);
  });

  it("'forwards' keeps a standby only while this node forwards the stream", () => {
    const net = standby('forwards');
    expect(net.held().standby).toBeNull();
    net.feed({ type: 'facts', facts: { forwarding: [STREAM] } });
    net.run(100);
    expect(net.held().standby).toBe(B);
    net.feed({ type: 'facts', facts: { forwarding: [] } });
    net.run(100);
    expect(net.held().standby).toBeNull();
    expect(net.relay.standby).toBeNull();
  });

  it('promotes the standby when the relay spliced to it, and finds a new standby', () => {
    const net = standby();
    net.nodes.get(A)!.alive = false;
    net.feed({
      type: 'upstream-lost',
      msg: { nodeId: SELF, streamId: STREAM, upstreamNodeId: A, reason: 'crashed', promotedNodeId: B },
    });
    net.run(100);
    expect(net.held()).toMatchObject({ primary: B, standby: C });
    expect(net.requests(AgentPatterns.TicketCancel).some((e) => (e as EmitEffect).to === A)).toBe(true);
  });

  it('finds another standby when the standby is lost', () => {
    const net = standby();
    net.nodes.get(B)!.alive = false;
    net.feed({
      type: 'upstream-lost',
      msg: { nodeId: SELF, streamId: STREAM, upstreamNodeId: B, reason: 'x', standby: true },
    });
    net.run(100);
    // C is below A (not disjoint); the source is: a disjoint path beats the source's last-resort rule.
    expect(net.held()).toMatchObject({ primary: A, standby: SOURCE });
  });

  it('stop watching gives back both tickets', () => {
    const net = standby();
    net.stop();
    net.run(100);
    expect(net.nodes.get(A)!.tickets.size + net.nodes.get(B)!.tickets.size).toBe(0);
    expect(net.relay).toMatchObject({ primary: null, standby: null });
  });
});
