import fc from 'fast-check';
import { AgentPatterns } from '@astral/contracts';
import type { RequestEffect } from './effects';
import { FakeNetwork, FakeUpstream, SELF, SOURCE, upstream } from './watch-fake-network';
import { disjointFrom } from './watch-rules';

/**
 * A random tree: node i hangs below the source, below an earlier node, or (when `withSelf`) below this
 * node itself: a descendant, whose offers would make a loop. Capacities and liveness are drawn too.
 */
const trees = (withSelf: boolean, maxNodes = 8) =>
  fc
    .array(
      fc.record({
        parent: fc.nat(),
        capacity: fc.integer({ min: 0, max: 3 }),
        alive: fc.boolean(),
      }),
      { minLength: 1, maxLength: maxNodes },
    )
    .map((specs) => {
      const nodes: FakeUpstream[] = [];
      const pathOf = new Map<string, string[]>([
        [SOURCE, [SOURCE]],
        [SELF, [SOURCE, SELF]],
      ]);
      specs.forEach((s, i) => {
        const parents = [SOURCE, ...(withSelf ? [SELF] : []), ...nodes.map((n) => n.nodeId)];
        const parent = parents[s.parent % parents.length];
        const id = `node-${i}`;
        const path = [...pathOf.get(parent)!, id];
        pathOf.set(id, path);
        const n = upstream(id, path, s.capacity);
        n.alive = s.alive;
        nodes.push(n);
      });
      return nodes;
    });

const confirmedTo = (net: FakeNetwork) =>
  net.sent
    .filter((e): e is RequestEffect => e.kind === 'request' && e.pattern === AgentPatterns.TicketConfirm)
    .map((e) => e.to!);

describe('WatchMachine properties', () => {
  it('never confirms an offer whose path contains itself (no loop, ever)', () => {
    fc.assert(
      fc.property(trees(true), fc.integer({ min: 0, max: 2 }), (nodes, sourceCap) => {
        const net = new FakeNetwork({ standby: 'players' }, nodes);
        net.nodes.get(SOURCE)!.capacity = sourceCap;
        net.watch();
        net.run(30_000);
        for (const to of confirmedTo(net)) expect(net.nodes.get(to)!.path).not.toContain(SELF);
        const { path, standbyPath } = net.held();
        expect(new Set(path).size).toBe(path.length);
        expect(new Set(standbyPath).size).toBe(standbyPath.length);
      }),
      { numRuns: 150 },
    );
  });

  it('every watcher eventually gets a ticket when capacity exists, however many refuse', () => {
    fc.assert(
      fc.property(trees(false, 20), fc.nat(), (nodes, pick) => {
        // At least one live node with room (possibly far down the candidate order).
        const lucky = nodes[pick % nodes.length];
        lucky.alive = true;
        lucky.capacity = Math.max(1, lucky.capacity);
        const net = new FakeNetwork({}, nodes);
        net.nodes.get(SOURCE)!.capacity = 0;
        const inbound = net.watch();
        net.run(60_000);
        expect(net.held().primary).not.toBeNull();
        // The call was answered either way, within the watch deadline.
        expect(net.answers.has(inbound)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('a ticket expires after exactly 3 missed heartbeats in a row', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }), (answered) => {
        const net = new FakeNetwork({}, [
          upstream('node-a', [SOURCE, 'node-a']),
          upstream('node-b', [SOURCE, 'node-b']),
        ]);
        net.nodes.get(SOURCE)!.capacity = 0;
        net.watch();
        net.run(100);
        expect(net.held().primary).toBe('node-a');
        let run = 0;
        let expired = false;
        for (const ok of answered) {
          net.nodes.get('node-a')!.answersHeartbeats = ok;
          net.run(1000);
          run = ok ? 0 : run + 1;
          if (run >= 3) expired = true;
          expect(net.held().primary).toBe(expired ? 'node-b' : 'node-a');
        }
      }),
      { numRuns: 200 },
    );
  });

  it("the standby's path is disjoint from the primary's whenever a disjoint one is offered", () => {
    fc.assert(
      fc.property(trees(false), fc.integer({ min: 0, max: 2 }), (nodes, sourceCap) => {
        for (const n of nodes) n.alive = true;
        const net = new FakeNetwork({ standby: 'players' }, nodes);
        net.nodes.get(SOURCE)!.capacity = sourceCap;
        net.watch();
        net.run(20_000);
        const { primary, path, standby, standbyPath } = net.held();
        if (!primary) return;
        if (standby) expect(standby).not.toBe(primary);
        const disjointOffered = [...net.nodes.values()].some(
          (n) => n.nodeId !== primary && n.capacity > 0 && disjointFrom(n.path, path),
        );
        if (disjointOffered) {
          expect(standby).not.toBeNull();
          expect(disjointFrom(standbyPath.slice(0, -1), path)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});
