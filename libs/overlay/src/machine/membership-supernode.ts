import {
  AgentPatterns,
  type CarrierInfo,
  type MembershipHeartbeat,
  type MembershipHeartbeatReply,
  type MembershipJoin,
  type MembershipJoinReply,
  type MembershipLeave,
} from '@astral/contracts';
import { SupernodeMembers } from '../membership';
import { Effect, InboundId, answer, emitEffect, refuse } from './effects';
import { MEMBERSHIP_MISS_LIMIT, type MembershipConfig } from './membership-types';

/**
 * The supernode half of the membership machine: the member table (capped at maxChildren, expired after
 * 3 missed heartbeats), the answers to joins, heartbeats and carrier lists, and re-homing the members.
 * `active` is whether this node is a supernode now; a node that is not answers as one that is not.
 */
export class SupernodeSide {
  readonly members: SupernodeMembers;

  constructor(private readonly config: MembershipConfig) {
    this.members = new SupernodeMembers(config.maxChildren, config.heartbeatMs, MEMBERSHIP_MISS_LIMIT);
  }

  join(
    active: boolean,
    leaving: boolean,
    inbound: InboundId,
    req: MembershipJoin,
    known: string[],
    now: number,
  ): Effect[] {
    const reply = (value: MembershipJoinReply): Effect => answer(inbound, value);
    if (!active) return [reply({ refused: 'not a supernode' })];
    if (leaving) return [reply({ refused: 'leaving' })];
    if (!this.members.join(req.nodeId, req.host, req.forwardPort, now, req.apiPort))
      return [reply({ refused: `full (${this.members.capacity} members)` })];
    return [
      {
        kind: 'log',
        level: 'info',
        msg: 'member joined',
        fields: { memberId: req.nodeId, members: this.members.size },
      },
      { kind: 'publish', event: { type: 'node-joined', nodeId: req.nodeId, role: 'member' } },
      reply({
        accepted: true,
        supernodeId: this.config.nodeId,
        heartbeatMs: this.config.heartbeatMs,
        knownSupernodes: known,
      }),
    ];
  }

  heartbeat(
    active: boolean,
    inbound: InboundId,
    msg: MembershipHeartbeat,
    known: string[],
    now: number,
  ): Effect[] {
    const value: MembershipHeartbeatReply =
      active && this.members.heartbeat(msg.nodeId, msg.carrying, now)
        ? { ok: true, knownSupernodes: known }
        : { unknown: true };
    return [answer(inbound, value)];
  }

  leave(msg: MembershipLeave): Effect[] {
    if (!this.members.leave(msg.nodeId)) return [];
    return [
      {
        kind: 'log',
        level: 'info',
        msg: 'member left',
        fields: { memberId: msg.nodeId, reason: msg.reason },
      },
      { kind: 'publish', event: { type: 'node-left', nodeId: msg.nodeId, reason: msg.reason } },
    ];
  }

  /** Members (and this node, first among equals) that carry a stream: where a viewer asks first. */
  carriers(active: boolean, inbound: InboundId, streamId: string, own: { hops: number } | null): Effect[] {
    if (!active) return [refuse(inbound, 'conflict', 'not a supernode')];
    const list: CarrierInfo[] = [];
    for (const c of this.members.carriers(streamId))
      if (c.apiPort !== undefined) list.push({ ...c, apiPort: c.apiPort });
    if (own)
      list.unshift({
        nodeId: this.config.nodeId,
        hops: own.hops,
        host: this.config.host,
        forwardPort: this.config.forwardPort,
        apiPort: this.config.apiPort,
      });
    return [
      answer(
        inbound,
        list.sort((a, b) => a.hops - b.hops),
      ),
    ];
  }

  /** The expiry sweep: drops members silent for 3 intervals, unless their silence does not count now. */
  expire(accountable: boolean, now: number): Effect[] {
    if (!accountable) {
      this.members.touchAll(now);
      return [];
    }
    const out: Effect[] = [];
    for (const id of this.members.expire(now)) {
      out.push(
        { kind: 'log', level: 'info', msg: 'member missed 3 heartbeats; dropped', fields: { memberId: id } },
        { kind: 'publish', event: { type: 'node-left', nodeId: id, reason: 'missed heartbeats' } },
      );
    }
    return out;
  }

  /** Tells every member to find another supernode, and forgets them. */
  rehomeAll(reason: string, suggestedSupernodeId: string | undefined): Effect[] {
    const out: Effect[] = this.members.ids().map((id) =>
      emitEffect(AgentPatterns.MembershipRehome, id, {
        supernodeId: this.config.nodeId,
        reason,
        ...(suggestedSupernodeId && { suggestedSupernodeId }),
      }),
    );
    for (const id of this.members.ids()) this.members.leave(id);
    return out;
  }
}
