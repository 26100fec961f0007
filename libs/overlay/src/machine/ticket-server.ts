import { RelayPatterns } from '@astral/contracts';
import type { OutgoingTicket } from '@astral/contracts';
import type { ServedCommitment } from '../headroom';
import { CommonInput, Effect, OverlayMachine, PendingCalls, answer, requestEffect } from './effects';
import {
  closeOp,
  drainCheck,
  endMany,
  endTicket,
  finishDrain,
  openOp,
  relayCommand,
  settleOp,
  startDrain,
} from './ticket-server-ending';
import {
  committedWith,
  heartbeatReply,
  onAdmitted,
  onConfirm,
  onOfferTimer,
  onRequest,
} from './ticket-server-offers';
import {
  CallContext,
  DRAIN_TIMER,
  MISSED_HEARTBEATS,
  OFFER_TIMER,
  OFFER_TTL_MS,
  RELAY_COMMAND_TIMEOUT_MS,
  RelayRates,
  ServerState,
  TicketServerConfig,
  TicketServerInput,
} from './ticket-server-types';

/**
 * The serving side of ticket negotiation for one node (docs/OVERLAY.md "Tickets"): offers only with
 * headroom at the relay's measured bit rates, never to a node on its own upstream path; an offer's
 * reservation lapses after `offerTtlMs` unless confirmed; a confirm has the relay admit the forward, then
 * answers with a signed token; heartbeats answer with the current path (and a fresh token when due);
 * a confirmed ticket whose downstream misses 3 heartbeats ends (not while peers are not accountable); a
 * lower upload limit ends the newest tickets that no longer fit; graceful leave drains.
 *
 * Pure: no I/O, no timers, no clock (time is `now`). The agent's TicketsService and the simulator drive it.
 */
export class TicketServer implements OverlayMachine<TicketServerInput> {
  private readonly s: ServerState;

  constructor(config: TicketServerConfig) {
    this.s = {
      config: { offerTtlMs: OFFER_TTL_MS, relayTimeoutMs: RELAY_COMMAND_TIMEOUT_MS, ...config },
      tickets: new Map(),
      limitBps: config.uploadLimitBps,
      calls: new PendingCalls<CallContext>(),
      ops: new Map(),
      nextOp: 1,
      confirmWaiters: new Map(),
      drain: null,
      leaving: false,
      revision: 0,
    };
  }

  handle(input: TicketServerInput | CommonInput, now: number): Effect[] {
    const s = this.s;
    switch (input.type) {
      case 'request':
        return onRequest(s, input, now);
      case 'confirm':
        return onConfirm(s, input, now);
      case 'heartbeat':
        return [answer(input.inbound, heartbeatReply(s, input.msg, input.path, now))];
      case 'cancel': {
        const t = s.tickets.get(input.msg.ticketId);
        // Only the ticket's requester can cancel it.
        if (!t || t.requesterId !== input.msg.requesterId) return [];
        return endTicket(s, t, input.msg.reason, false, null);
      }
      case 'expiry-tick':
        return this.expire(input.accountable, now);
      case 'set-limit':
        return this.setLimit(input.inbound, input.limitBps, input.rates);
      case 'end': {
        const t = s.tickets.get(input.ticketId);
        const op = openOp(s, input.inbound, t !== undefined);
        return [...(t ? endTicket(s, t, input.reason, input.notify ?? true, op) : []), ...closeOp(s, op)];
      }
      case 'end-stream':
        return endMany(s, input.inbound, (t) => t.streamId === input.streamId, input.reason);
      case 'end-all':
        return endMany(s, input.inbound, () => true, input.reason);
      case 'drain':
        return startDrain(s, input.inbound, input.reason, input.timeoutMs);
      case 'forward-closed': {
        const t = s.tickets.get(input.ticketId);
        if (t?.state !== 'confirmed') return [];
        s.tickets.delete(t.ticketId);
        s.revision++;
        const log: Effect = {
          kind: 'log',
          level: 'info',
          msg: 'forward closed by the relay; ticket ended',
          fields: { ticketId: t.ticketId, streamId: t.streamId, reason: input.reason },
        };
        return [log, ...drainCheck(s)];
      }
      case 'relay-ready':
        return this.replay(input.inbound);
      case 'timer':
        if (input.timer === DRAIN_TIMER) return finishDrain(s);
        if (input.timer.startsWith(OFFER_TIMER))
          return onOfferTimer(s, input.timer.slice(OFFER_TIMER.length));
        return [];
      case 'reply':
      case 'failed':
        return this.settled(input, now);
      case 'rtt':
        return [];
    }
  }

  /** Confirmed tickets whose downstream missed 3 heartbeats end, closing their forwards. */
  private expire(accountable: boolean, now: number): Effect[] {
    const s = this.s;
    if (!accountable) {
      // Heartbeats could not cross; restart the clock so nobody is expired for Redis's outage.
      for (const t of s.tickets.values())
        if (t.state === 'confirmed') t.lastHeartbeat = Math.max(t.lastHeartbeat, now);
      return [];
    }
    const limit = now - MISSED_HEARTBEATS * s.config.peerHeartbeatMs;
    const out: Effect[] = [];
    for (const t of [...s.tickets.values()])
      if (t.state === 'confirmed' && t.lastHeartbeat < limit)
        out.push(...endTicket(s, t, 'ticket expired: the downstream missed 3 heartbeats', true, null));
    return out;
  }

  /**
   * A new upload limit: tickets that no longer fit end first (newest first, with a reason, so their
   * downstream nodes re-parent at once) rather than being starved by the relay's budget; then the relay
   * is told. Answered when it has the limit.
   */
  private setLimit(inbound: number | undefined, limitBps: number | null, rates: RelayRates): Effect[] {
    const s = this.s;
    s.limitBps = limitBps;
    s.revision++;
    const op = openOp(s, inbound, undefined);
    const out: Effect[] = [];
    for (const t of [...s.tickets.values()].reverse()) {
      if (limitBps === null || committedWith(s, rates, false) <= limitBps) break;
      out.push(...endTicket(s, t, 'upload limit lowered', true, op));
    }
    out.push(
      relayCommand(s, op, (call, to, timeoutMs) =>
        requestEffect(
          call,
          RelayPatterns.SetUploadLimit,
          to,
          limitBps === null ? {} : { uploadLimitBps: limitBps },
          timeoutMs,
        ),
      ),
    );
    return [...out, ...closeOp(s, op)];
  }

  /** The relay restarted empty: the upload limit and every confirmed admission again. */
  private replay(inbound: number | undefined): Effect[] {
    const s = this.s;
    const op = openOp(s, inbound, undefined);
    const out: Effect[] = [];
    const limit = s.limitBps;
    if (limit !== null)
      out.push(
        relayCommand(s, op, (call, to, t) =>
          requestEffect(call, RelayPatterns.SetUploadLimit, to, { uploadLimitBps: limit }, t),
        ),
      );
    for (const ticket of s.tickets.values())
      if (ticket.state === 'confirmed')
        out.push(
          relayCommand(s, op, (call, to, t) =>
            requestEffect(
              call,
              RelayPatterns.AdmitForward,
              to,
              { ticketId: ticket.ticketId, streamId: ticket.streamId, downstreamNodeId: ticket.requesterId },
              t,
            ),
          ),
        );
    return [...out, ...closeOp(s, op)];
  }

  private settled(input: Extract<CommonInput, { type: 'reply' | 'failed' }>, now: number): Effect[] {
    const s = this.s;
    const c = s.calls.take(input.call);
    if (!c) return [];
    const failure =
      input.type === 'failed'
        ? { code: input.code === 'timeout' ? ('unavailable' as const) : input.code, message: input.message }
        : null;
    switch (c.kind) {
      case 'admit':
        return onAdmitted(s, c.ticketId, failure, now);
      case 'revoke': {
        // A forward that would not close is logged; the ticket is gone either way.
        const log: Effect[] = failure
          ? [
              {
                kind: 'log',
                level: 'warn',
                msg: 'relay did not confirm the revoke',
                fields: { ticketId: c.ticketId, err: failure.message },
              },
            ]
          : [];
        return [...log, ...settleOp(s, c.op)];
      }
      case 'relay':
        return settleOp(s, c.op, failure ?? undefined);
    }
  }

  // Readers for the driver (facts, status, the local API). They never change the state.

  get limitBps(): number | null {
    return this.s.limitBps;
  }

  /** Bumped on every change of the tickets or the limit. */
  get revision(): number {
    return this.s.revision;
  }

  /** Offered and confirmed tickets, as far as upload is concerned (NodeFacts.served). */
  served(): ServedCommitment[] {
    return [...this.s.tickets.values()].map((t) => ({
      streamId: t.streamId,
      bitrateBps: t.bitrateBps,
      confirmed: t.state === 'confirmed',
    }));
  }

  confirmedCount(): number {
    let n = 0;
    for (const t of this.s.tickets.values()) if (t.state === 'confirmed') n++;
    return n;
  }

  /** The tickets as the local API lists them: no requester key, no token; a confirming one is still offered. */
  list(): OutgoingTicket[] {
    return [...this.s.tickets.values()].map((t) => ({
      ticketId: t.ticketId,
      streamId: t.streamId,
      requesterId: t.requesterId,
      state: t.state === 'confirmed' ? 'confirmed' : 'offered',
      bitrateBps: t.bitrateBps,
      expiresAt: t.expiresAt,
      createdAt: t.createdAt,
      token: null,
      lastHeartbeat: t.lastHeartbeat,
    }));
  }

  /** The stream of a ticket this node serves. */
  streamOf(ticketId: string): string | undefined {
    return this.s.tickets.get(ticketId)?.streamId;
  }

  /** Whether this node has started its graceful leave (it makes no more offers). */
  get leaving(): boolean {
    return this.s.leaving;
  }
}
