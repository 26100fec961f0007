import { AgentPatterns, type MembershipAccepted } from '@astral/contracts';
import { CommonInput, Effect, LogEffect, OverlayMachine, PendingCalls, answer, emitEffect } from './effects';
import { DirectoryRecord } from './membership-directory';
import { JoinDone, JoinRound, MembershipCall } from './membership-join';
import { MemberHeartbeats } from './membership-member';
import { SupernodeSide } from './membership-supernode';
import {
  MembershipConfig,
  MembershipInput,
  MembershipRole,
  MembershipTimers,
  MembershipView,
} from './membership-types';

const log = (level: LogEffect['level'], msg: string, fields?: LogEffect['fields']): LogEffect => ({
  kind: 'log',
  level,
  msg,
  ...(fields && { fields }),
});

/**
 * One node's supernode membership, both roles (docs/OVERLAY.md "Supernode membership"). As a member: join
 * the closest supernode with room (seeds first, then the directory's list, then the supernodes it was
 * told of), heartbeat it, fail over after 3 missed heartbeats while peers are accountable, join again
 * when it forgot us, re-home when asked, promote itself when nobody takes it. As a supernode: accept
 * members up to maxChildren, answer heartbeats and carrier lists, expire silent members, re-home them
 * when it leaves or demotes. Pure: no clock but `now`, no I/O but its effects.
 */
export class MembershipMachine implements OverlayMachine<MembershipInput> {
  private readonly calls = new PendingCalls<MembershipCall>();
  private readonly side: SupernodeSide;
  private readonly directory: DirectoryRecord;
  private readonly known = new Set<string>();
  private role: MembershipRole = 'joining';
  private supernodeId: string | null = null;
  private readonly beats: MemberHeartbeats;
  private round: JoinRound | null = null;
  private rounds = 0;
  /** Set while waiting for the next round after none took the node (promotion when orphaned is off). */
  private retry: ReadonlySet<string> | null = null;
  private started = false;
  private stopping = false;
  private accountable = true;

  constructor(private readonly config: MembershipConfig) {
    this.side = new SupernodeSide(config);
    this.directory = new DirectoryRecord(config, this.calls);
    this.beats = new MemberHeartbeats(config, this.calls);
  }

  get view(): MembershipView {
    return {
      role: this.role,
      supernodeId: this.supernodeId,
      members: this.side.members.ids(),
      maxChildren: this.side.members.capacity,
      joining: this.round !== null,
      promotionRecorded: this.directory.recorded,
    };
  }

  handle(input: MembershipInput | CommonInput, now: number): Effect[] {
    const supernode = this.role === 'supernode';
    switch (input.type) {
      case 'start':
        if (this.started) return [];
        this.started = true;
        return this.beginRound(new Set());
      case 'directory-up':
        return this.directoryUp();
      case 'accountable':
        this.accountable = input.accountable;
        return [];
      case 'carrying':
        this.beats.carrying = input.carrying;
        return [];
      case 'max-children':
        this.side.members.setMaxChildren(input.maxChildren);
        return supernode ? this.directory.promote(input.maxChildren) : [];
      case 'leave':
        return this.leave(input.inbound);
      case 'join-request':
        return this.side.join(supernode, this.stopping, input.inbound, input.join, this.knownList(), now);
      case 'heartbeat-request':
        return this.side.heartbeat(supernode, input.inbound, input.heartbeat, this.knownList(), now);
      case 'member-leave':
        return this.side.leave(input.leave);
      case 'carriers':
        return this.side.carriers(supernode, input.inbound, input.streamId, input.own);
      case 'rehome':
        return this.rehome(input.rehome.supernodeId, input.rehome.reason, input.rehome.suggestedSupernodeId);
      case 'timer':
        return this.timer(input.timer, now);
      case 'rtt':
      case 'reply':
      case 'failed':
        return this.answered(input);
    }
  }

  private knownList(): string[] {
    return [...this.known];
  }

  private learn(ids: string[]): void {
    for (const id of ids) if (id !== this.config.nodeId) this.known.add(id);
  }

  // ---- joining ---------------------------------------------------------------------------------

  /** Starts a join round; one at a time (a round under way keeps its own exclusions). */
  private beginRound(exclude: ReadonlySet<string>): Effect[] {
    if (this.stopping || this.round) return [];
    this.retry = null;
    const out: Effect[] = [
      { kind: 'clear-timer', timer: MembershipTimers.beat },
      { kind: 'clear-timer', timer: MembershipTimers.rejoin },
    ];
    this.round = new JoinRound(++this.rounds, exclude, {
      config: this.config,
      calls: this.calls,
      known: () => this.known,
    });
    const done = this.round.begin(out);
    return done ? this.finishRound(done, out) : out;
  }

  private finishRound(done: JoinDone, out: Effect[]): Effect[] {
    const exclude = this.round?.exclude ?? new Set<string>();
    this.round = null;
    if (done.kind === 'joined') {
      this.becomeMember(done.accepted, done.rttMs, out);
      return out;
    }
    if (done.sawCandidates && !this.config.promoteWhenOrphaned) {
      this.retry = exclude;
      out.push(log('warn', 'no supernode accepted this node; retrying (promotion when orphaned is off)'), {
        kind: 'set-timer',
        timer: MembershipTimers.rejoin,
        afterMs: 2 * this.config.heartbeatMs,
      });
      return out;
    }
    this.promote(done.sawCandidates ? 'no supernode had room' : 'no supernode exists', out);
    return out;
  }

  private becomeMember(accepted: MembershipAccepted, rttMs: number | null, out: Effect[]): void {
    const previous = this.supernodeId;
    if (this.role === 'supernode') this.demote('supernode demoted', out);
    this.role = 'member';
    this.supernodeId = accepted.supernodeId;
    this.learn([...accepted.knownSupernodes, accepted.supernodeId]);
    out.push(
      log('info', 'joined a supernode', { supernodeId: accepted.supernodeId, previous, rttMs }),
      {
        kind: 'publish',
        event: { type: 'supernode-changed', supernodeId: accepted.supernodeId, role: 'member' },
      },
      ...this.beats.restart(accepted.heartbeatMs),
    );
  }

  /** Becomes a supernode now; the directory is told, and told again until it has recorded it. */
  private promote(why: string, out: Effect[]): void {
    this.role = 'supernode';
    this.supernodeId = null;
    out.push(
      ...this.directory.promote(this.side.members.capacity),
      log('info', 'promoted to supernode', { why, maxChildren: this.side.members.capacity }),
      {
        kind: 'publish',
        event: { type: 'supernode-changed', supernodeId: this.config.nodeId, role: 'supernode' },
      },
      { kind: 'set-timer', timer: MembershipTimers.expire, afterMs: this.config.heartbeatMs },
    );
  }

  private demote(reason: string, out: Effect[]): void {
    out.push(
      ...this.side.rehomeAll(reason, undefined),
      { kind: 'clear-timer', timer: MembershipTimers.expire },
      ...this.directory.demote(null),
    );
  }

  private directoryUp(): Effect[] {
    if (this.role === 'supernode' && !this.directory.recorded)
      return this.directory.promote(this.side.members.capacity);
    // Waiting to retry (promotion when orphaned is off): the directory's list may have what we need.
    return this.retry ? this.beginRound(this.retry) : [];
  }

  private rehome(supernodeId: string, reason: string, suggested: string | undefined): Effect[] {
    if (this.stopping || this.role !== 'member' || supernodeId !== this.supernodeId) return [];
    this.known.delete(supernodeId);
    if (suggested) this.learn([suggested]);
    return [
      log('info', 'supernode asked us to re-home', { supernodeId, reason }),
      ...this.beginRound(new Set([supernodeId])),
    ];
  }

  // ---- timers ----------------------------------------------------------------------------------

  private timer(timer: string, now: number): Effect[] {
    if (this.stopping) return [];
    switch (timer) {
      case MembershipTimers.beat:
        return this.beat();
      case MembershipTimers.expire: {
        if (this.role !== 'supernode') return [];
        const out = this.side.expire(this.accountable, now);
        if (!this.directory.recorded) out.push(...this.directory.promote(this.side.members.capacity));
        out.push({ kind: 'set-timer', timer: MembershipTimers.expire, afterMs: this.config.heartbeatMs });
        return out;
      }
      case MembershipTimers.rejoin:
        return this.retry ? this.beginRound(this.retry) : [];
      default:
        return [];
    }
  }

  private beat(): Effect[] {
    if (this.role !== 'member' || !this.supernodeId || this.round) return [];
    return this.beats.beat(this.supernodeId);
  }

  // ---- answers to our own calls ----------------------------------------------------------------

  private answered(input: Extract<CommonInput, { type: 'rtt' | 'reply' | 'failed' }>): Effect[] {
    const ctx = this.calls.take(input.call);
    if (!ctx) return [];
    switch (ctx.what) {
      case 'rtt':
      case 'list':
      case 'join':
        return this.roundAnswer(ctx, input);
      case 'beat':
        return this.beatAnswer(ctx.supernodeId, input);
      case 'promote':
        return this.directory.onPromoted(input, this.role === 'supernode');
      case 'demote':
        return this.directory.onDemoted(ctx.inbound);
    }
  }

  private roundAnswer(
    ctx: Extract<MembershipCall, { what: 'rtt' | 'list' | 'join' }>,
    input: Extract<CommonInput, { type: 'rtt' | 'reply' | 'failed' }>,
  ): Effect[] {
    const round = this.round;
    if (!round || round.round !== ctx.round) return [];
    const out: Effect[] = [];
    const done = round.answer(ctx, input, out);
    return done ? this.finishRound(done, out) : out;
  }

  private beatAnswer(supernodeId: string, input: CommonInput): Effect[] {
    if (this.role !== 'member' || this.supernodeId !== supernodeId) return [];
    const verdict = this.beats.answer(input, this.accountable);
    switch (verdict.kind) {
      case 'ok':
        this.learn(verdict.knownSupernodes);
        return [];
      case 'unknown':
        return [
          log('info', 'supernode forgot this node; joining again', { supernodeId }),
          ...this.beginRound(new Set()),
        ];
      case 'failover':
        return [
          log('warn', 'supernode missed 3 heartbeats; failing over', { supernodeId, misses: verdict.misses }),
          ...this.beginRound(new Set([supernodeId])),
        ];
      case 'none':
        return [];
    }
  }

  // ---- leaving ---------------------------------------------------------------------------------

  /** Graceful leave: as a supernode the members re-home first (and the directory demotes); as a member, it leaves. */
  private leave(inbound: number): Effect[] {
    this.stopping = true;
    this.round = null;
    this.calls.forget((c) => c.what === 'rtt' || c.what === 'list' || c.what === 'join');
    const out: Effect[] = Object.values(MembershipTimers).map((timer) => ({
      kind: 'clear-timer' as const,
      timer,
    }));
    if (this.role === 'supernode') {
      const others = [...this.known].filter((id) => id !== this.config.nodeId);
      out.push(...this.side.rehomeAll('supernode leaving', others[0]));
      out.push(...this.directory.demote(inbound));
      return out;
    }
    if (this.role === 'member' && this.supernodeId)
      out.push(
        emitEffect(AgentPatterns.MembershipLeave, this.supernodeId, {
          nodeId: this.config.nodeId,
          reason: 'leaving',
        }),
      );
    out.push(answer(inbound, undefined));
    return out;
  }
}
