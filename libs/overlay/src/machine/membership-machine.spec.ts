import { AgentPatterns, DirectoryPatterns, replyShapeOf } from '@astral/contracts';
import { checkReply } from '@astral/transport';
import { Effect } from './effects';
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
const PROMOTE = DirectoryPatterns.PromoteSupernode;
const DEMOTE = DirectoryPatterns.DemoteSupernode;
const accepted = (supernodeId: string) => ({
  accepted: true,
  supernodeId,
  heartbeatMs: 1000,
  knownSupernodes: [],
});
const seed = (nodeId: string, host = `seed-${nodeId.slice(-2)}`) => ({ nodeId, host, forwardPort: 9000 });
const kinds = (effects: Effect[], kind: Effect['kind']) => effects.filter((e) => e.kind === kind);

describe('MembershipMachine: joining', () => {
  it('tries the static seeds first, closest first, and needs no directory when one accepts', () => {
    const b = new Bench(
      membershipConfig({ seeds: [seed(ids[1], 'far'), seed(ids[2], 'near'), seed(SELF, 'me')] }),
    );
    const first = b.feed({ type: 'start' });
    // Probes for both seeds (never itself), nothing asked of the directory yet.
    expect(kinds(first, 'measure-rtt')).toHaveLength(2);
    expect(b.requests(LIST)).toHaveLength(0);
    b.answerRtts((host) => (host === 'near' ? 1 : 50));
    const [join] = b.requests(JOIN);
    expect(join.to).toBe(ids[2]);
    expect(join.body).toEqual({ nodeId: SELF, host: '10.0.0.1', forwardPort: 9000, apiPort: 7000 });
    b.reply(join.call, accepted(ids[2]));
    expect(b.m.view).toMatchObject({ role: 'member', supernodeId: ids[2], joining: false });
    expect(b.log.some((e) => e.kind === 'request' && e.pattern === LIST)).toBe(false);
    expect(b.log).toContainEqual({ kind: 'set-timer', timer: MembershipTimers.beat, afterMs: 1000 });
  });

  it.each([
    { name: 'refuse', answer: (b: Bench, call: number) => b.reply(call, { refused: 'full (3 members)' }) },
    { name: 'do not answer', answer: (b: Bench, call: number) => b.fail(call) },
  ])('asks the directory only after every seed was tried; seeds that $name', ({ answer }) => {
    const b = new Bench(membershipConfig({ seeds: [seed(ids[1]), seed(ids[2])] }));
    b.feed({ type: 'start' });
    b.answerRtts();
    for (let i = 0; i < 2; i++) {
      expect(b.requests(LIST)).toHaveLength(0);
      const [join] = b.requests(JOIN);
      answer(b, join.call);
    }
    const [list] = b.requests(LIST);
    expect(list.body).toEqual({ nodeId: SELF, hint: '10.0.0.1' });
    // The directory lists a seed again (not asked twice) and another supernode.
    b.reply(list.call, [listed(ids[1]), listed(ids[3])]);
    b.answerRtts();
    const [join] = b.requests(JOIN);
    expect(join.to).toBe(ids[3]);
    b.reply(join.call, accepted(ids[3]));
    expect(b.m.view.supernodeId).toBe(ids[3]);
  });

  it.each([
    { name: 'the directory is down', list: (b: Bench, call: number) => b.fail(call, 'timeout') },
    { name: 'the directory lists none', list: (b: Bench, call: number) => b.reply(call, []) },
    { name: 'it lists only this node', list: (b: Bench, call: number) => b.reply(call, [listed(SELF)]) },
  ])(
    'promotes itself when no supernode exists ($name), even with promotion when orphaned off',
    ({ list }) => {
      for (const promoteWhenOrphaned of [true, false]) {
        const b = new Bench(membershipConfig({ promoteWhenOrphaned }));
        b.feed({ type: 'start' });
        list(b, b.requests(LIST)[0].call);
        expect(b.m.view.role).toBe('supernode');
        expect(b.requests(PROMOTE)[0].body).toEqual({ nodeId: SELF, maxChildren: 3 });
        expect(b.log).toContainEqual({
          kind: 'publish',
          event: { type: 'supernode-changed', supernodeId: SELF, role: 'supernode' },
        });
      }
    },
  );

  it.each([
    { promoteWhenOrphaned: true, role: 'supernode' },
    { promoteWhenOrphaned: false, role: 'joining' },
  ])(
    'when every supernode refuses: promotes if allowed ($promoteWhenOrphaned), else retries later',
    ({ promoteWhenOrphaned, role }) => {
      const b = new Bench(membershipConfig({ promoteWhenOrphaned }));
      b.feed({ type: 'start' });
      b.reply(b.requests(LIST)[0].call, [listed(ids[1], 3, 3)]);
      b.answerRtts();
      b.reply(b.requests(JOIN)[0].call, { refused: 'full (3 members)' });
      expect(b.m.view.role).toBe(role);
      if (!promoteWhenOrphaned) {
        expect(b.log).toContainEqual({ kind: 'set-timer', timer: MembershipTimers.rejoin, afterMs: 2000 });
        b.tick(MembershipTimers.rejoin, 2000);
        expect(b.requests(LIST)).toHaveLength(1);
      }
    },
  );

  it('drops unreachable candidates, and tries supernodes known only by id last', () => {
    const b = memberBench(ids[1]);
    // The supernode tells of another one (no address): it becomes a candidate.
    b.tick(MembershipTimers.beat, 1000);
    b.reply(b.requests(BEAT)[0].call, { ok: true, knownSupernodes: [ids[5]] });
    b.feed({ type: 'rehome', rehome: { supernodeId: ids[1], reason: 'supernode leaving' } });
    b.reply(b.requests(LIST)[0].call, [listed(ids[2]), listed(ids[3])]);
    b.answerRtts((host) => (host.endsWith('02') ? null : 3));
    expect(b.requests(JOIN).map((j) => j.to)).toEqual([ids[3]]);
    b.fail(b.requests(JOIN)[0].call);
    expect(b.requests(JOIN).map((j) => j.to)).toEqual([ids[5]]);
  });
});

describe('MembershipMachine: as a member', () => {
  it('heartbeats with the carrying fact, and learns of other supernodes', () => {
    const b = memberBench(ids[1]);
    b.feed({ type: 'carrying', carrying: [{ streamId: 'abc', hops: 2 }] });
    const out = b.tick(MembershipTimers.beat, 1000);
    const [beat] = b.requests(BEAT);
    expect(beat).toMatchObject({ to: ids[1], timeoutMs: 2000 });
    expect(beat.body).toEqual({ nodeId: SELF, carrying: [{ streamId: 'abc', hops: 2 }] });
    expect(out).toContainEqual({ kind: 'set-timer', timer: MembershipTimers.beat, afterMs: 1000 });
  });

  it.each([
    { failures: 2, accountable: true, failsOver: false },
    { failures: 3, accountable: true, failsOver: true },
    { failures: 5, accountable: false, failsOver: false },
  ])('$failures failed heartbeats, accountable $accountable: fails over $failsOver', (c) => {
    const b = memberBench(ids[1]);
    b.feed({ type: 'accountable', accountable: c.accountable });
    for (let i = 0; i < c.failures; i++) {
      b.tick(MembershipTimers.beat, 1000);
      b.fail(b.requests(BEAT)[0].call);
    }
    expect(b.m.view.joining).toBe(c.failsOver);
    if (c.failsOver) {
      // The dead supernode is not a candidate of the failover round, even when listed.
      b.answerRtts();
      b.reply(b.requests(LIST)[0].call, [listed(ids[1]), listed(ids[2])]);
      b.answerRtts();
      expect(b.requests(JOIN).map((j) => j.to)).toEqual([ids[2]]);
    }
  });

  it('keeps trying after a failover that nobody takes, when promotion when orphaned is off', () => {
    const b = memberBench(ids[1], { promoteWhenOrphaned: false });
    b.feed({ type: 'rehome', rehome: { supernodeId: ids[1], reason: 'supernode leaving' } });
    b.reply(b.requests(LIST)[0].call, [listed(ids[2], 3, 3)]);
    b.answerRtts();
    b.reply(b.requests(JOIN)[0].call, { refused: 'full (3 members)' });
    expect(b.m.view).toMatchObject({ role: 'member', joining: false });
    b.tick(MembershipTimers.rejoin, 2000);
    expect(b.m.view.joining).toBe(true);
    expect(b.requests(LIST)).toHaveLength(1);
  });

  it('joins again when the supernode forgot it, and re-homes when told to', () => {
    const b = memberBench(ids[1]);
    b.tick(MembershipTimers.beat, 1000);
    b.reply(b.requests(BEAT)[0].call, { unknown: true });
    expect(b.m.view.joining).toBe(true);
    b.answerRtts();
    b.reply(b.requests(JOIN)[0].call, accepted(ids[1]));
    // A re-home from another supernode is not ours; from ours, it moves on (excluding it).
    expect(b.feed({ type: 'rehome', rehome: { supernodeId: ids[9], reason: 'x' } })).toEqual([]);
    b.feed({ type: 'rehome', rehome: { supernodeId: ids[1], reason: 'supernode leaving' } });
    expect(b.m.view.joining).toBe(true);
  });

  it('leaves its supernode gracefully, and then joins nothing', () => {
    const b = memberBench(ids[1]);
    const inbound = b.nextInbound();
    const out = b.feed({ type: 'leave', inbound });
    expect(out).toContainEqual({
      kind: 'emit',
      pattern: AgentPatterns.MembershipLeave,
      to: ids[1],
      body: { nodeId: SELF, reason: 'leaving' },
    });
    expect(b.answerTo(inbound)).toBeDefined();
    expect(b.tick(MembershipTimers.beat, 1000)).toEqual([]);
    expect(b.feed({ type: 'rehome', rehome: { supernodeId: ids[1], reason: 'x' } })).toEqual([]);
  });
});

describe('MembershipMachine: as a supernode', () => {
  it('accepts members up to maxChildren and refuses the next; answers heartbeats of members only', () => {
    const b = supernodeBench();
    for (const id of ids.slice(1, 4))
      expect(b.joinMember(id)).toMatchObject({ accepted: true, supernodeId: SELF });
    expect(b.joinMember(ids[4])).toEqual({ refused: 'full (3 members)' });
    expect(b.m.view.members).toHaveLength(3);
    const hb = (nodeId: string) =>
      b.ask((inbound) => ({ type: 'heartbeat-request', inbound, heartbeat: { nodeId, carrying: [] } }));
    expect(hb(ids[1])).toEqual({ ok: true, knownSupernodes: [] });
    expect(hb(ids[4])).toEqual({ unknown: true });
  });

  it('refuses joins and carrier lists while not a supernode', () => {
    const b = memberBench(ids[1]);
    expect(b.joinMember(ids[4])).toEqual({ refused: 'not a supernode' });
    expect(b.ask((inbound) => ({ type: 'carriers', inbound, streamId: 's', own: null }))).toEqual({
      ok: false,
      code: 'conflict',
      message: 'not a supernode',
    });
  });

  it("lists its members' carrying with their API ports, itself first among equals, and the list passes the requester's reply check", () => {
    const b = supernodeBench();
    b.joinMember(ids[1], 7101);
    b.joinMember(ids[2], 7102);
    b.ask((inbound) => ({
      type: 'heartbeat-request',
      inbound,
      heartbeat: { nodeId: ids[1], carrying: [{ streamId: 'abc', hops: 2 }] },
    }));
    b.ask((inbound) => ({
      type: 'heartbeat-request',
      inbound,
      heartbeat: { nodeId: ids[2], carrying: [{ streamId: 'abc', hops: 1 }] },
    }));
    const list = b.ask((inbound) => ({ type: 'carriers', inbound, streamId: 'abc', own: { hops: 1 } }));
    expect(list).toEqual([
      { nodeId: SELF, hops: 1, host: '10.0.0.1', forwardPort: 9000, apiPort: 7000 },
      { nodeId: ids[2], hops: 1, host: '10.0.0.9', forwardPort: 9001, apiPort: 7102 },
      { nodeId: ids[1], hops: 2, host: '10.0.0.9', forwardPort: 9001, apiPort: 7101 },
    ]);
    const check = checkReply(replyShapeOf(AgentPatterns.SupernodeCarriers)!, list);
    expect(check.ok).toBe(true);
  });

  it('expires a member after 3 missed heartbeat intervals, not while peers are unaccountable', () => {
    const b = supernodeBench();
    b.joinMember(ids[1]);
    b.feed({ type: 'accountable', accountable: false });
    for (let i = 0; i < 10; i++) b.tick(MembershipTimers.expire, 1000);
    expect(b.m.view.members).toEqual([ids[1]]);
    b.feed({ type: 'accountable', accountable: true });
    for (let i = 0; i < 3; i++) b.tick(MembershipTimers.expire, 1000);
    expect(b.m.view.members).toEqual([ids[1]]);
    const out = b.tick(MembershipTimers.expire, 1000);
    expect(b.m.view.members).toEqual([]);
    expect(out).toContainEqual({
      kind: 'publish',
      event: { type: 'node-left', nodeId: ids[1], reason: 'missed heartbeats' },
    });
  });

  it('keeps telling the directory of its promotion until it is recorded; sends a new capacity', () => {
    const b = new Bench(membershipConfig());
    b.feed({ type: 'start' });
    b.fail(b.requests(LIST)[0].call);
    b.fail(b.requests(PROMOTE)[0].call, 'node is not registered');
    expect(b.m.view).toMatchObject({ role: 'supernode', promotionRecorded: false });
    expect(b.joinMember(ids[1])).toMatchObject({ accepted: true });
    b.feed({ type: 'directory-up' });
    b.reply(b.requests(PROMOTE)[0].call, listed(SELF));
    expect(b.m.view.promotionRecorded).toBe(true);
    b.tick(MembershipTimers.expire, 1000);
    expect(b.requests(PROMOTE)).toHaveLength(0);
    b.feed({ type: 'max-children', maxChildren: 7 });
    expect(b.requests(PROMOTE)[0].body).toEqual({ nodeId: SELF, maxChildren: 7 });
  });

  it('on leave: tells every member to re-home, refuses new members, demotes, then answers', () => {
    const b = supernodeBench();
    b.joinMember(ids[1]);
    b.joinMember(ids[2]);
    const inbound = b.nextInbound();
    const out = b.feed({ type: 'leave', inbound });
    expect(kinds(out, 'emit').map((e) => e.kind === 'emit' && e.to)).toEqual([ids[1], ids[2]]);
    expect(b.answerTo(inbound)).toBeUndefined();
    expect(b.joinMember(ids[3])).toEqual({ refused: 'leaving' });
    b.reply(b.requests(DEMOTE)[0].call, listed(SELF));
    expect(b.answerTo(inbound)).toBeDefined();
  });
});
