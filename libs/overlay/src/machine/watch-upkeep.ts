import {
  AgentPatterns,
  DirectoryPatterns,
  RelayPatterns,
  type TicketHeartbeatReply,
} from '@astral/contracts';
import { pathBelow, samePath } from '../upstream-path';
import {
  HEARTBEAT_TIMER,
  STANDBY_UPGRADE_MS,
  TIMEOUTS,
  WatchCore,
  retryTimer,
  standbyDisjoint,
} from './watch-core';
import { abandonRound, startRound } from './watch-acquire';
import { withTicketToken } from './watch-rules';
import type { HeldTicket, Purpose, Watched } from './watch-types';

/*
 * Keeping what a watched stream holds (docs/OVERLAY.md "Failover" and "Hitless failover"): ticket
 * heartbeats, token refresh and path following; a lost primary replaced (make before break, retried
 * until it holds) or, with a standby, the standby promoted; a lost standby replaced.
 */

/** Missed heartbeats in a row after which a ticket's upstream counts as lost. */
export const HEARTBEAT_MISS_LIMIT = 3;

/** One heartbeat per held ticket (the primary's not while it is being replaced); re-armed while any is held. */
export function heartbeatAll(core: WatchCore): void {
  core.heartbeatArmed = false;
  if (core.facts.leaving) return;
  for (const w of core.streams.values())
    for (const purpose of ['primary', 'standby'] as const) {
      const t = w[purpose];
      if (!t || (purpose === 'primary' && w.failover)) continue;
      core.request(
        { kind: 'heartbeat', streamId: w.streamId, purpose, ticketId: t.ticketId },
        AgentPatterns.TicketHeartbeat,
        t.upstreamNodeId,
        { ticketId: t.ticketId, requesterId: core.nodeId },
        // Heartbeats may take two intervals on a busy machine before they count as missed.
        2 * core.cfg.heartbeatMs,
      );
    }
  armHeartbeat(core);
}

export function armHeartbeat(core: WatchCore): void {
  const holding = [...core.streams.values()].some((w) => w.primary || w.standby);
  const wanted = holding && !core.facts.leaving;
  if (wanted && !core.heartbeatArmed) core.setTimer(HEARTBEAT_TIMER, core.cfg.heartbeatMs);
  if (!wanted && core.heartbeatArmed) core.clearTimer(HEARTBEAT_TIMER);
  core.heartbeatArmed = wanted;
}

export function onHeartbeat(
  core: WatchCore,
  w: Watched,
  purpose: Purpose,
  ticketId: string,
  reply: TicketHeartbeatReply | null,
): void {
  const t = w[purpose];
  if (!t || t.ticketId !== ticketId || (purpose === 'primary' && w.failover)) return;
  if (reply === null) {
    if (!core.facts.peersAccountable) return;
    if (++t.misses >= HEARTBEAT_MISS_LIMIT)
      lost(core, w, purpose, 'ticket expired: the upstream missed 3 heartbeats', true);
    return;
  }
  t.misses = 0;
  if ('unknown' in reply) return lost(core, w, purpose, 'the upstream no longer knows our ticket', true);
  // A fresh token: kept in the forward URL, so a pull opened again after a relay restart is accepted.
  if (reply.token !== undefined) t.forwardUrl = withTicketToken(t.forwardUrl, reply.token);
  if (reply.path !== undefined) followPath(core, w, purpose, t, reply.path);
}

/**
 * The upstream's current path: when a node above re-parented, this node's path and hops follow (and the
 * directory's hop count). Finding itself on the upstream's path means a forwarding loop: re-parent at once.
 */
function followPath(core: WatchCore, w: Watched, purpose: Purpose, t: HeldTicket, path: unknown): void {
  const below = pathBelow(path, core.nodeId);
  if (below === null) {
    core.log('warn', 'ignored a malformed upstream path in a ticket heartbeat reply', {
      streamId: w.streamId,
      upstreamNodeId: t.upstreamNodeId,
    });
    return;
  }
  if ('loop' in below)
    return lost(core, w, purpose, 'a forwarding loop: this node is on its upstream’s path', true);
  if (samePath(below.path, t.path)) return;
  const hopsChanged = below.hops !== t.hops;
  t.path = below.path;
  t.hops = below.hops;
  core.log('debug', 'upstream path changed', { streamId: w.streamId, purpose, hops: below.hops });
  if (purpose === 'primary' && hopsChanged) core.carrying(w.streamId, below.hops, true);
  reconcile(core, w);
}

/** A held ticket's upstream is lost: a primary fails over, a standby is replaced. */
export function lost(
  core: WatchCore,
  w: Watched,
  purpose: Purpose,
  reason: string,
  cancelOld: boolean,
): void {
  if (purpose === 'standby') {
    dropStandby(core, w, reason, cancelOld, true);
    return reconcile(core, w);
  }
  startFailover(core, w, w.primary?.upstreamNodeId ?? null, reason, cancelOld);
}

/**
 * Starts replacing the primary: the first round at once, and at the same time the directory is asked
 * whether the stream is still live (a stream that ended is dropped); rounds until one holds. The old pull keeps flowing until the relay switches
 * (make before break); only then is the old ticket cancelled. Nothing starts while one runs.
 */
export function startFailover(
  core: WatchCore,
  w: Watched,
  lostNodeId: string | null,
  reason: string,
  cancelOld: boolean,
): void {
  if (!w.primary || w.failover || core.facts.leaving) return;
  abandonRound(core, w, 'the primary upstream was lost');
  core.clearTimer(retryTimer('standby', w.streamId));
  w.retrying.standby = false;
  w.failover = {
    lostNodeId: lostNodeId ?? w.primary.upstreamNodeId,
    lostTicketId: w.primary.ticketId,
    reason,
    since: core.now,
    cancelOld,
  };
  w.attempts.primary = 0;
  w.tryingSince.primary = core.now;
  core.log('info', 'upstream lost; failing over', { streamId: w.streamId, lostNodeId, reason });
  core.request(
    { kind: 'get-stream', streamId: w.streamId, failover: true },
    DirectoryPatterns.GetStream,
    null,
    { streamId: w.streamId },
    TIMEOUTS.directory,
  );
  startRound(core, w, 'primary');
}

/** The new primary holds: the old ticket is given back, the switch published. */
export function installPrimary(core: WatchCore, w: Watched, held: HeldTicket): void {
  const fo = w.failover;
  w.primary = held;
  w.failover = null;
  w.lastReason = '';
  if (fo) {
    if (fo.cancelOld && fo.lostNodeId && fo.lostTicketId)
      core.cancel(fo.lostNodeId, fo.lostTicketId, `re-parented: ${fo.reason}`);
    const recoveryMs = core.now - fo.since;
    core.log('info', 'upstream switched', {
      streamId: w.streamId,
      lostNodeId: fo.lostNodeId,
      upstreamNodeId: held.upstreamNodeId,
      recoveryMs,
      reason: fo.reason,
    });
    core.publish({
      type: 'upstream-switched',
      streamId: w.streamId,
      from: fo.lostNodeId,
      to: held.upstreamNodeId,
      recoveryMs,
    });
  } else {
    core.log('info', 'ticket confirmed; pulling', {
      streamId: w.streamId,
      upstreamNodeId: held.upstreamNodeId,
      hops: held.hops,
    });
    core.publish({
      type: 'ticket-created',
      ticketId: held.ticketId,
      streamId: w.streamId,
      direction: 'incoming',
      peerId: held.upstreamNodeId,
    });
  }
  core.carrying(w.streamId, held.hops, true);
  armHeartbeat(core);
}

export function installStandby(core: WatchCore, w: Watched, held: HeldTicket): void {
  if (w.standby) core.cancel(w.standby.upstreamNodeId, w.standby.ticketId, 'replaced by another standby');
  w.standby = held;
  core.log('info', 'standby ticket confirmed', {
    streamId: w.streamId,
    upstreamNodeId: held.upstreamNodeId,
    path: held.path,
    primaryPath: w.primary?.path,
  });
  core.publish({
    type: 'ticket-created',
    ticketId: held.ticketId,
    streamId: w.streamId,
    direction: 'incoming',
    peerId: held.upstreamNodeId,
  });
  armHeartbeat(core);
}

/** The relay spliced to the standby: it is the primary now; the lost one's ticket is given back. */
export function promoteStandby(core: WatchCore, w: Watched, reason: string): void {
  const old = w.primary;
  const next = w.standby!;
  abandonRound(core, w, 'the standby was promoted');
  if (old) core.cancel(old.upstreamNodeId, old.ticketId, `standby promoted: ${reason}`);
  if (w.failover?.cancelOld === false) core.log('debug', 'the lost ticket was ended by its upstream');
  w.primary = next;
  w.standby = null;
  w.failover = null;
  w.attempts.standby = 0;
  core.carrying(w.streamId, next.hops, true);
  core.log('info', 'standby promoted to primary', {
    streamId: w.streamId,
    lostNodeId: old?.upstreamNodeId,
    upstreamNodeId: next.upstreamNodeId,
    reason,
  });
  core.publish({
    type: 'upstream-switched',
    streamId: w.streamId,
    from: old?.upstreamNodeId ?? null,
    to: next.upstreamNodeId,
    recoveryMs: 0,
  });
  reconcile(core, w);
}

/** Gives up the standby: its ticket back (unless its upstream ended it), its pull closed (unless lost). */
export function dropStandby(
  core: WatchCore,
  w: Watched,
  reason: string,
  cancel: boolean,
  close: boolean,
): void {
  const s = w.standby;
  if (!s) return;
  w.standby = null;
  if (cancel) core.cancel(s.upstreamNodeId, s.ticketId, reason);
  if (close)
    core.request(
      { kind: 'fire-and-forget', streamId: w.streamId },
      RelayPatterns.CloseUpstream,
      core.nodeId,
      { streamId: w.streamId, role: 'standby' },
      TIMEOUTS.relay,
    );
  core.log('info', 'standby given up', { streamId: w.streamId, upstreamNodeId: s.upstreamNodeId, reason });
}

/** After every change: a held primary gets a standby when one is wanted, and loses it when not. */
export function reconcile(core: WatchCore, w: Watched): void {
  if (!w.primary || w.failover || w.round || core.facts.leaving) return;
  const wanted = core.wantsStandby(w);
  if (!wanted && w.standby) dropStandby(core, w, 'no standby wanted now', true, true);
  if (wanted && !w.standby && !w.retrying.standby) startRound(core, w, 'standby');
  // A standby on the primary's path: look for a disjoint one now and then, keeping this one meanwhile.
  if (wanted && w.standby && !w.retrying.standby && !standbyDisjoint(w)) {
    w.retrying.standby = true;
    core.setTimer(retryTimer('standby', w.streamId), STANDBY_UPGRADE_MS);
  }
}
