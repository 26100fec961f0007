import {
  type CarrierInfo,
  type NodeInfo,
  type StreamInfo,
  type TicketConfirmReply,
  type TicketHeartbeatReply,
  type TicketReply,
} from '@astral/contracts';
import { CommonInput, Effect, OverlayMachine, answer, refuse } from './effects';
import { HEARTBEAT_TIMER, WatchCore, deadlineTimer, standbyDisjoint } from './watch-core';
import { onCarriers, onListings, onOffer, onRtt, startRound } from './watch-acquire';
import { onConfirm, onOpened } from './watch-confirm';
import {
  dropStandby,
  heartbeatAll,
  installPrimary,
  installStandby,
  onHeartbeat,
  promoteStandby,
  reconcile,
  startFailover,
} from './watch-upkeep';
import { WATCH_DEADLINE_MS } from './watch-rules';
import { drop, gotStream, leaveAll, reopenPulls, watch, watchAnswer } from './watch-lifecycle';
import type { AcquiringStream, WatchConfig, WatchInput, WatchedStream } from './watch-types';

/**
 * The watching side of the overlay (docs/OVERLAY.md "Watching"): owns the streams this node watches or
 * seeds. It gets a ticket (request, offer, confirm, open the pull, tell the directory), keeps trying with
 * backoff until the viewer stops watching, heartbeats its tickets, follows its upstream's path, fails
 * over when an upstream is lost, and keeps a warm standby when configured. Pure: `handle(input, now)`.
 */
export class WatchMachine implements OverlayMachine<WatchInput> {
  private readonly core: WatchCore;

  constructor(cfg: WatchConfig) {
    this.core = new WatchCore(cfg);
  }

  handle(input: WatchInput | CommonInput, now: number): Effect[] {
    const core = this.core;
    core.now = now;
    core.out = [];
    this.dispatch(input);
    const out = core.out;
    core.out = [];
    return out;
  }

  /** Streams with a held primary, as the agent's CarriedStreams shows them. */
  carried(): WatchedStream[] {
    const out: WatchedStream[] = [];
    for (const w of this.core.streams.values()) {
      const p = w.primary;
      if (!p) continue;
      const c: WatchedStream = {
        streamId: w.streamId,
        origin: 'upstream',
        path: [...p.path],
        hops: p.hops,
        upstreamNodeId: p.upstreamNodeId,
        ticketId: p.ticketId,
        forwardUrl: p.forwardUrl,
        since: p.since,
        seed: w.seed,
        upstreamBitrateBps: p.bitrateBps,
      };
      if (w.standby) {
        const s = w.standby;
        c.standby = {
          upstreamNodeId: s.upstreamNodeId,
          ticketId: s.ticketId,
          path: [...s.path],
          hops: s.hops,
          since: s.since,
        };
      }
      out.push(c);
    }
    return out;
  }

  /**
   * Streams whose primary upstream is being replaced: their path is stale until the new one holds (a
   * serving side may decline to offer them meanwhile).
   */
  failingOver(): string[] {
    return [...this.core.streams.values()].filter((w) => w.failover !== null).map((w) => w.streamId);
  }

  /** Streams watched without a ticket yet: the machine is still trying. */
  acquiring(): AcquiringStream[] {
    return [...this.core.streams.values()]
      .filter((w) => !w.primary)
      .map((w) => ({ streamId: w.streamId, seed: w.seed, since: w.since, lastReason: w.lastReason }));
  }

  private dispatch(input: WatchInput | CommonInput): void {
    const core = this.core;
    switch (input.type) {
      case 'facts': {
        // `leaving` only stops new rounds; the tickets go back with the `leave` input.
        core.facts = { ...core.facts, ...input.facts };
        for (const w of core.streams.values()) reconcile(core, w);
        return;
      }
      case 'watch':
        return watch(core, input.inbound, input.streamId, input.seed);
      case 'stop': {
        const w = core.streams.get(input.streamId);
        if (w) drop(core, w, 'stopped watching', true);
        core.out.push(answer(input.inbound, w !== undefined));
        return;
      }
      case 'ticket-ended': {
        const { msg } = input;
        const w = core.streams.get(msg.streamId);
        if (!w) return;
        // No cancel: the upstream ended the ticket itself, and serves until our relay switched.
        if (w.primary?.ticketId === msg.ticketId)
          startFailover(core, w, msg.nodeId, `upstream ended the ticket: ${msg.reason}`, false);
        else if (w.standby?.ticketId === msg.ticketId) {
          dropStandby(core, w, `upstream ended the standby ticket: ${msg.reason}`, false, true);
          reconcile(core, w);
        }
        return;
      }
      case 'upstream-lost': {
        const { msg } = input;
        const w = core.streams.get(msg.streamId);
        if (!w) return;
        if (msg.promotedNodeId && w.standby?.upstreamNodeId === msg.promotedNodeId)
          return promoteStandby(core, w, msg.reason);
        const standbyLost =
          msg.standby === true ||
          (w.standby !== null &&
            msg.upstreamNodeId === w.standby.upstreamNodeId &&
            msg.upstreamNodeId !== w.primary?.upstreamNodeId);
        if (standbyLost) {
          if (!w.standby) return;
          // The relay lost that pull already: no close, but the ticket is given back.
          dropStandby(core, w, `standby lost: ${msg.reason}`, true, false);
          return reconcile(core, w);
        }
        return startFailover(core, w, msg.upstreamNodeId ?? null, msg.reason, true);
      }
      case 'relay-stream-ended': {
        const w = core.streams.get(input.streamId);
        if (!w) return;
        drop(core, w, 'the stream ended', false);
        core.publish({ type: 'stream-ended', streamId: w.streamId });
        return;
      }
      case 'relay-ready':
        return reopenPulls(core);
      case 'leave':
        core.facts = { ...core.facts, leaving: true };
        return leaveAll(core);
      case 'timer':
        return this.timer(input.timer);
      case 'reply':
      case 'failed':
      case 'rtt':
        return this.answered(input);
    }
  }

  private timer(name: string): void {
    const core = this.core;
    if (name === HEARTBEAT_TIMER) return heartbeatAll(core);
    const [kind, a, b] = name.split(':');
    if (kind === 'retry') {
      const purpose = a as 'primary' | 'standby';
      const w = core.streams.get(b);
      if (!w) return;
      w.retrying[purpose] = false;
      if (purpose === 'primary' && (!w.primary || w.failover)) startRound(core, w, 'primary');
      else if (purpose === 'standby' && w.standby && !standbyDisjoint(w) && core.wantsStandby(w))
        startRound(core, w, 'standby'); // an upgrade: only a disjoint offer replaces the standby held
      else reconcile(core, w);
      return;
    }
    if (kind === 'watch') {
      const inbound = Number(a);
      const w = core.streams.get(b);
      if (!w || !w.waiters.includes(inbound)) return;
      w.waiters = w.waiters.filter((i) => i !== inbound);
      // The caller hears no within the deadline; the machine keeps trying until the viewer stops watching.
      core.out.push(
        refuse(
          inbound,
          'no-capacity',
          `no node could forward stream ${w.streamId} within ${WATCH_DEADLINE_MS / 1000} s (${w.lastReason || 'no candidates'})`,
        ),
      );
    }
  }

  private answered(input: CommonInput & { call: number }): void {
    const core = this.core;
    const call = core.calls.take(input.call);
    if (!call) return;
    const w = core.streams.get(call.streamId);
    const value = input.type === 'reply' ? input.value : undefined;
    const failure = input.type === 'failed' ? input : null;
    if (call.kind === 'offer') {
      const live = w?.round?.id === call.round && w.round.step === 'offers';
      if (!live) {
        // A round abandoned: give back what it was offered.
        const late = value as TicketReply | undefined;
        if (late && 'offer' in late) core.cancel(call.nodeId, late.offer.ticketId, 'no longer wanted');
        return;
      }
      const result: PromiseSettledResult<TicketReply> = failure
        ? { status: 'rejected', reason: failure.message }
        : { status: 'fulfilled', value: value as TicketReply };
      return onOffer(core, w, w.round!, call.nodeId, result);
    }
    if (!w) return;
    if (call.kind === 'get-stream')
      return gotStream(core, w, value as StreamInfo | undefined, failure, call.failover === true);
    if (call.kind === 'heartbeat')
      return onHeartbeat(core, w, call.purpose, call.ticketId, (value as TicketHeartbeatReply) ?? null);
    if (call.kind === 'fire-and-forget') {
      if (failure) core.log('debug', 'relay command failed', { streamId: w.streamId, err: failure.message });
      return;
    }
    const r = w.round;
    if (!r || r.id !== call.round) return;
    switch (call.kind) {
      case 'carriers':
        return onCarriers(core, w, r, failure ? null : (value as CarrierInfo[]), call.supernode === true);
      case 'listings':
        return onListings(core, w, r, failure ? null : (value as NodeInfo[]));
      case 'rtt':
        return onRtt(core, w, r, call.nodeId, input.type === 'rtt' ? input.rttMs : null);
      case 'confirm':
        return onConfirm(core, w, r, failure ? { failed: failure.message } : (value as TicketConfirmReply));
      case 'open': {
        const held = onOpened(core, w, r, failure ? failure.message : null);
        if (!held) return;
        if (r.purpose === 'standby') installStandby(core, w, held);
        else {
          installPrimary(core, w, held);
          for (const inbound of w.waiters) {
            core.clearTimer(deadlineTimer(inbound, w.streamId));
            core.out.push(answer(inbound, watchAnswer(w)));
          }
          w.waiters = [];
        }
        return reconcile(core, w);
      }
    }
  }
}
