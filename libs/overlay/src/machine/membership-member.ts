import { AgentPatterns, type MembershipHeartbeatReply } from '@astral/contracts';
import type { MemberCarrying } from '../membership';
import { CommonInput, Effect, PendingCalls, replyOf, requestEffect } from './effects';
import type { MembershipCall } from './membership-join';
import { MEMBERSHIP_MISS_LIMIT, MembershipTimers, type MembershipConfig } from './membership-types';

/** What a heartbeat's answer means for the member. */
export type BeatVerdict =
  | { kind: 'ok'; knownSupernodes: string[] }
  /** The supernode does not know this node: join again. */
  | { kind: 'unknown' }
  /** The 3rd heartbeat in a row failed while peers were accountable: fail over. */
  | { kind: 'failover'; misses: number }
  | { kind: 'none' };

/**
 * A member's heartbeats to its supernode: one every interval (the supernode's, from its join reply),
 * listing what this node carries; each may take two intervals before it counts as missed, and a miss
 * counts only while peers are accountable.
 */
export class MemberHeartbeats {
  private misses = 0;
  intervalMs: number;
  /** The `carrying` fact: what the next heartbeat lists. */
  carrying: MemberCarrying[] = [];

  constructor(
    private readonly config: MembershipConfig,
    private readonly calls: PendingCalls<MembershipCall>,
  ) {
    this.intervalMs = config.heartbeatMs;
  }

  /** A new supernode: no misses yet; its first heartbeat after one interval. */
  restart(intervalMs: number): Effect[] {
    this.misses = 0;
    this.intervalMs = intervalMs;
    return [{ kind: 'set-timer', timer: MembershipTimers.beat, afterMs: intervalMs }];
  }

  beat(supernodeId: string): Effect[] {
    const call = this.calls.open({ what: 'beat', supernodeId });
    return [
      requestEffect(
        call,
        AgentPatterns.MembershipHeartbeat,
        supernodeId,
        { nodeId: this.config.nodeId, carrying: this.carrying },
        // A busy machine may take two intervals to answer before a beat counts as missed.
        2 * this.intervalMs,
      ),
      { kind: 'set-timer', timer: MembershipTimers.beat, afterMs: this.intervalMs },
    ];
  }

  answer(input: CommonInput, accountable: boolean): BeatVerdict {
    if (input.type === 'failed') {
      if (!accountable) return { kind: 'none' };
      this.misses += 1;
      return this.misses >= MEMBERSHIP_MISS_LIMIT
        ? { kind: 'failover', misses: this.misses }
        : { kind: 'none' };
    }
    if (input.type !== 'reply') return { kind: 'none' };
    this.misses = 0;
    const reply: MembershipHeartbeatReply = replyOf(AgentPatterns.MembershipHeartbeat, input.value);
    return 'unknown' in reply ? { kind: 'unknown' } : { kind: 'ok', knownSupernodes: reply.knownSupernodes };
  }
}
