import fc from 'fast-check';
import { AgentPatterns, DirectoryPatterns } from '@astral/contracts';
import {
  Bench,
  SELF,
  ids,
  listed,
  memberBench,
  membershipConfig,
  supernodeBench,
} from './membership-harness';
import { MembershipTimers } from './membership-types';

const JOIN = AgentPatterns.MembershipJoin;
const BEAT = AgentPatterns.MembershipHeartbeat;
const LIST = DirectoryPatterns.ListSupernodes;
const others = ids.slice(1, 30);

type Op =
  | { op: 'join'; who: number }
  | { op: 'leave'; who: number }
  | { op: 'beat'; who: number }
  | { op: 'tick'; ms: number }
  | { op: 'cap'; max: number }
  | { op: 'accountable'; value: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('join' as const), who: fc.nat(28) }), weight: 5 },
  fc.record({ op: fc.constant('leave' as const), who: fc.nat(28) }),
  fc.record({ op: fc.constant('beat' as const), who: fc.nat(28) }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 2500 }) }),
  fc.record({ op: fc.constant('cap' as const), max: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('accountable' as const), value: fc.boolean() }),
);

describe('MembershipMachine properties', () => {
  it('a supernode never takes a member beyond its maxChildren', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(opArb, { maxLength: 80 }), (max, ops) => {
        const b = supernodeBench({ maxChildren: max });
        let cap = max;
        let highest = max;
        for (const o of ops) {
          const before = b.m.view.members;
          switch (o.op) {
            case 'join': {
              const reply = b.joinMember(others[o.who]) as { accepted?: true };
              // A new member is taken only below the cap (a member that joins again keeps its place).
              if (reply.accepted && !before.includes(others[o.who])) expect(before.length).toBeLessThan(cap);
              break;
            }
            case 'leave':
              b.feed({ type: 'member-leave', leave: { nodeId: others[o.who], reason: 'x' } });
              break;
            case 'beat':
              b.ask((inbound) => ({
                type: 'heartbeat-request',
                inbound,
                heartbeat: { nodeId: others[o.who], carrying: [] },
              }));
              break;
            case 'tick':
              b.tick(MembershipTimers.expire, o.ms);
              break;
            case 'cap':
              cap = o.max;
              highest = Math.max(highest, cap);
              b.feed({ type: 'max-children', maxChildren: o.max });
              break;
            case 'accountable':
              b.feed({ type: 'accountable', accountable: o.value });
          }
          // A lower cap keeps the members it has and admits none.
          expect(b.m.view.members.length).toBeLessThanOrEqual(highest);
        }
      }),
    );
  });

  it('a member fails over exactly at its 3rd heartbeat in a row to fail while accountable', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ ok: fc.boolean(), accountable: fc.boolean() }), { maxLength: 40 }),
        (beats) => {
          const b = memberBench(ids[1]);
          let run = 0;
          for (const beat of beats) {
            b.feed({ type: 'accountable', accountable: beat.accountable });
            b.tick(MembershipTimers.beat, 1000);
            const [req] = b.requests(BEAT);
            if (beat.ok) b.reply(req.call, { ok: true, knownSupernodes: [] });
            else b.fail(req.call);
            if (beat.ok) run = 0;
            else if (beat.accountable) run += 1;
            expect(b.m.view.joining).toBe(run >= 3);
            if (run >= 3) return;
          }
        },
      ),
    );
  });

  it('a supernode expires no member while peers are not accountable', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 30 }),
        (n, gaps) => {
          const b = supernodeBench({ maxChildren: 5 });
          for (const id of others.slice(0, n)) b.joinMember(id);
          b.feed({ type: 'accountable', accountable: false });
          for (const gap of gaps) {
            const out = b.tick(MembershipTimers.expire, gap);
            expect(out.some((e) => e.kind === 'publish' && e.event.type === 'node-left')).toBe(false);
          }
          expect(b.m.view.members).toHaveLength(n);
        },
      ),
    );
  });

  it('a node with no candidate promotes itself, if allowed or not', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom('down', 'empty', 'self', 'unreachable'),
        fc.integer({ min: 0, max: 3 }),
        (promoteWhenOrphaned, directory, unreachableSeeds) => {
          const seeds = others
            .slice(0, unreachableSeeds)
            .map((nodeId) => ({ nodeId, host: 'gone', forwardPort: 1 }));
          const b = new Bench(membershipConfig({ promoteWhenOrphaned, seeds }));
          b.feed({ type: 'start' });
          b.answerRtts(() => null);
          const [list] = b.requests(LIST);
          if (directory === 'down') b.fail(list.call);
          else if (directory === 'empty') b.reply(list.call, []);
          else if (directory === 'self') b.reply(list.call, [listed(SELF)]);
          else b.reply(list.call, [listed(others[20])]);
          b.answerRtts(() => null);
          expect(b.requests(JOIN)).toHaveLength(0);
          expect(b.m.view.role).toBe('supernode');
        },
      ),
    );
  });

  it('every seed is asked before the directory is; a seed that accepts ends the round', () => {
    const answerArb = fc.constantFrom('accept', 'refuse', 'fail', 'unreachable');
    fc.assert(
      fc.property(
        fc.array(answerArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 5, maxLength: 5 }),
        (answers, rtts) => {
          const seeds = answers.map((_, i) => ({ nodeId: others[i], host: `s${i}`, forwardPort: 9000 }));
          const b = new Bench(membershipConfig({ seeds }));
          b.feed({ type: 'start' });
          b.answerRtts((host) => {
            const i = Number(host.slice(1));
            return answers[i] === 'unreachable' ? null : rtts[i];
          });
          const asked: string[] = [];
          for (let join = b.requests(JOIN)[0]; join; join = b.requests(JOIN)[0]) {
            expect(b.log.some((e) => e.kind === 'request' && e.pattern === LIST)).toBe(false);
            asked.push(join.to!);
            const a = answers[others.indexOf(join.to!)];
            if (a === 'accept')
              b.reply(join.call, {
                accepted: true,
                supernodeId: join.to,
                heartbeatMs: 1000,
                knownSupernodes: [],
              });
            else if (a === 'refuse') b.reply(join.call, { refused: 'full (3 members)' });
            else b.fail(join.call);
            if (a === 'accept') break;
          }
          // Reachable seeds, closest first, up to the first that accepts.
          const reachable = seeds
            .map((s, i) => ({ id: s.nodeId, rtt: rtts[i], a: answers[i] }))
            .filter((s) => s.a !== 'unreachable')
            .sort((x, y) => x.rtt - y.rtt);
          const firstAccept = reachable.findIndex((s) => s.a === 'accept');
          const expected = reachable
            .slice(0, firstAccept === -1 ? undefined : firstAccept + 1)
            .map((s) => s.id);
          expect(asked).toEqual(expected);
          expect(b.requests(LIST)).toHaveLength(firstAccept === -1 ? 1 : 0);
        },
      ),
    );
  });
});
