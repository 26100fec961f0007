import type { NodeInfo } from '@astral/contracts';
import { CommonInput, Effect, RequestEffect } from './effects';
import { MembershipMachine } from './membership-machine';
import { MembershipConfig, MembershipInput } from './membership-types';

/*
 * A test bench for one MembershipMachine (specs only): feeds inputs at a clock the test moves, keeps
 * every effect, and answers the machine's requests by hand.
 */

export const ids = Array.from(
  { length: 40 },
  (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
);
export const SELF = ids[0];

export function membershipConfig(over: Partial<MembershipConfig> = {}): MembershipConfig {
  return {
    nodeId: SELF,
    host: '10.0.0.1',
    forwardPort: 9000,
    apiPort: 7000,
    maxChildren: 3,
    heartbeatMs: 1000,
    seeds: [],
    promoteWhenOrphaned: true,
    ...over,
  };
}

export function listed(nodeId: string, childCount = 0, maxChildren: number | null = 3): NodeInfo {
  return {
    nodeId,
    host: `host-${nodeId.slice(-2)}`,
    rtmpPort: 1935,
    httpPort: 8000,
    forwardPort: 9000,
    apiPort: 7000,
    supernode: true,
    maxChildren,
    childCount,
    uploadLimitBps: null,
    lastSeenAt: 0,
  } as unknown as NodeInfo;
}

export class Bench {
  readonly m: MembershipMachine;
  now = 0;
  /** Every effect so far, in order. */
  readonly log: Effect[] = [];
  private inbound = 1;

  constructor(config: MembershipConfig) {
    this.m = new MembershipMachine(config);
  }

  feed(input: MembershipInput | CommonInput): Effect[] {
    const out = this.m.handle(input, this.now);
    this.log.push(...out);
    return out;
  }

  nextInbound(): number {
    return this.inbound++;
  }

  /** Open requests on a pattern (not yet answered through this bench), oldest first. */
  requests(pattern: string): RequestEffect[] {
    return this.log.filter(
      (e): e is RequestEffect => e.kind === 'request' && e.pattern === pattern && !this.answered.has(e.call),
    );
  }

  private readonly answered = new Set<number>();

  reply(call: number, value: unknown): Effect[] {
    this.answered.add(call);
    return this.feed({ type: 'reply', call, value });
  }

  fail(call: number, message = 'no answer'): Effect[] {
    this.answered.add(call);
    return this.feed({ type: 'failed', call, code: 'timeout', message });
  }

  /** Answers every open RTT probe: `rtt(host)` (null: unreachable). */
  answerRtts(rtt: (host: string) => number | null = () => 5): void {
    for (;;) {
      const probe = this.log.find(
        (e): e is Extract<Effect, { kind: 'measure-rtt' }> =>
          e.kind === 'measure-rtt' && !this.answered.has(e.call),
      );
      if (!probe) return;
      this.answered.add(probe.call);
      this.feed({ type: 'rtt', call: probe.call, rttMs: rtt(probe.host) });
    }
  }

  /** The answer the machine gave an inbound request. */
  answerTo(inbound: number): Extract<Effect, { kind: 'answer' }> | undefined {
    return this.log.find(
      (e): e is Extract<Effect, { kind: 'answer' }> => e.kind === 'answer' && e.inbound === inbound,
    );
  }

  ask(build: (inbound: number) => MembershipInput): unknown {
    const inbound = this.nextInbound();
    this.feed(build(inbound));
    const a = this.answerTo(inbound);
    return a?.reply.ok ? a.reply.value : a?.reply;
  }

  joinMember(nodeId: string, apiPort = 7001): unknown {
    return this.ask((inbound) => ({
      type: 'join-request',
      inbound,
      join: { nodeId, host: '10.0.0.9', forwardPort: 9001, apiPort },
    }));
  }

  tick(timer: string, advanceMs = 0): Effect[] {
    this.now += advanceMs;
    return this.feed({ type: 'timer', timer });
  }
}

/** A bench whose machine became a supernode (no seeds, the directory listed none and recorded it). */
export function supernodeBench(over: Partial<MembershipConfig> = {}): Bench {
  const b = new Bench(membershipConfig(over));
  b.feed({ type: 'start' });
  const [list] = b.requests('directory.supernodes.list');
  b.reply(list.call, []);
  const [promote] = b.requests('directory.supernodes.promote');
  b.reply(promote.call, listed(SELF));
  return b;
}

/** A bench whose machine is a member of `supernodeId` (its only seed). */
export function memberBench(supernodeId = ids[1], over: Partial<MembershipConfig> = {}): Bench {
  const b = new Bench(
    membershipConfig({ seeds: [{ nodeId: supernodeId, host: 'seed', forwardPort: 9000 }], ...over }),
  );
  b.feed({ type: 'start' });
  b.answerRtts();
  const [join] = b.requests('node.{self}.membership.join');
  b.reply(join.call, { accepted: true, supernodeId, heartbeatMs: 1000, knownSupernodes: [] });
  return b;
}
