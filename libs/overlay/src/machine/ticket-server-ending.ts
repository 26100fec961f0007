import { AgentPatterns, RelayPatterns } from '@astral/contracts';
import type { AstralErrorCode } from '@astral/contracts';
import { Effect, InboundId, answer, emitEffect, refuse, requestEffect } from './effects';
import { DRAIN_TIMER, ServedTicket, ServerState, offerTimer } from './ticket-server-types';

/*
 * The ending seam of the serving side: how a ticket ends (the downstream told, the relay's forward
 * closed), and the answers that wait until the relay has done what was asked (ops).
 */

/** Opens an op: `value` is answered to `inbound` once every relay command counted on it settles. */
export function openOp(s: ServerState, inbound: InboundId | undefined, value: unknown): number {
  const op = s.nextOp++;
  s.ops.set(op, { inbounds: inbound === undefined ? [] : [inbound], value, waiting: 0, failure: null });
  return op;
}

/** A relay command counted on `op` settled (a failure is remembered: the op answers with it). */
export function settleOp(
  s: ServerState,
  op: number | null,
  failure?: { code: AstralErrorCode; message: string },
): Effect[] {
  const o = op === null ? undefined : s.ops.get(op);
  if (!o) return [];
  o.waiting--;
  if (failure && !o.failure) o.failure = failure;
  return closeOp(s, op as number);
}

/** Answers the op if nothing is left to wait for. Call once after the commands are sent. */
export function closeOp(s: ServerState, op: number): Effect[] {
  const o = s.ops.get(op);
  if (!o || o.waiting > 0) return [];
  s.ops.delete(op);
  return o.inbounds.map((i) =>
    o.failure ? refuse(i, o.failure.code, o.failure.message) : answer(i, o.value),
  );
}

/** Sends a command to the own relay, counted on `op`. */
export function relayCommand(
  s: ServerState,
  op: number,
  e: (call: number, to: string, timeoutMs: number) => Effect,
): Effect {
  const o = s.ops.get(op);
  if (o) o.waiting++;
  return e(s.calls.open({ kind: 'relay', op }), s.config.nodeId, s.config.relayTimeoutMs);
}

/**
 * Ends a ticket this node serves: tells the downstream (so it re-parents at once, unless it asked for
 * the end itself), then closes the relay's forward if it was confirmed (counted on `op`).
 */
export function endTicket(
  s: ServerState,
  t: ServedTicket,
  reason: string,
  notify: boolean,
  op: number | null,
): Effect[] {
  s.tickets.delete(t.ticketId);
  s.revision++;
  const out: Effect[] = [];
  if (t.state === 'offered') out.push({ kind: 'clear-timer', timer: offerTimer(t.ticketId) });
  if (t.state === 'confirmed') {
    if (notify)
      out.push(
        emitEffect(AgentPatterns.TicketEnded, t.requesterId, {
          ticketId: t.ticketId,
          nodeId: s.config.nodeId,
          streamId: t.streamId,
          reason,
        }),
      );
    out.push({
      kind: 'publish',
      event: {
        type: 'ticket-ended',
        ticketId: t.ticketId,
        streamId: t.streamId,
        direction: 'outgoing',
        reason,
      },
    });
    const o = op === null ? undefined : s.ops.get(op);
    if (o) o.waiting++;
    const call = s.calls.open({ kind: 'revoke', ticketId: t.ticketId, op });
    out.push(
      requestEffect(
        call,
        RelayPatterns.RevokeForward,
        s.config.nodeId,
        { ticketId: t.ticketId, reason },
        s.config.relayTimeoutMs,
      ),
    );
  }
  out.push({
    kind: 'log',
    level: 'info',
    msg: 'ticket ended',
    fields: { ticketId: t.ticketId, streamId: t.streamId, requesterId: t.requesterId, reason },
  });
  out.push(...drainCheck(s));
  return out;
}

/** Ends every ticket `which` picks, newest first, all counted on one op answered with `value`. */
export function endMany(
  s: ServerState,
  inbound: InboundId | undefined,
  which: (t: ServedTicket) => boolean,
  reason: string,
  value: unknown = undefined,
): Effect[] {
  const op = openOp(s, inbound, value);
  const out: Effect[] = [];
  for (const t of [...s.tickets.values()].reverse())
    if (which(t)) out.push(...endTicket(s, t, reason, true, op));
  return [...out, ...closeOp(s, op)];
}

/**
 * Graceful leave, make-before-break: tells every downstream to re-parent while the relay still serves
 * it, and waits (a timer) until they have cancelled; no offer is made from now on.
 */
export function startDrain(
  s: ServerState,
  inbound: InboundId | undefined,
  reason: string,
  timeoutMs: number,
): Effect[] {
  s.leaving = true;
  if (s.drain) {
    // A second drain is answered with the first one.
    if (inbound !== undefined) s.ops.get(s.drain.op)?.inbounds.push(inbound);
    return [];
  }
  const op = openOp(s, inbound, undefined);
  const confirmed = [...s.tickets.values()].filter((t) => t.state === 'confirmed');
  const out: Effect[] = confirmed.map((t) =>
    emitEffect(AgentPatterns.TicketEnded, t.requesterId, {
      ticketId: t.ticketId,
      nodeId: s.config.nodeId,
      streamId: t.streamId,
      reason,
    }),
  );
  s.drain = { op, reason, waiting: new Set(confirmed.map((t) => t.ticketId)) };
  if (confirmed.length === 0) return [...out, ...finishDrain(s)];
  return [...out, { kind: 'set-timer', timer: DRAIN_TIMER, afterMs: timeoutMs }];
}

/** Every drained downstream has gone: the drain finishes early. */
export function drainCheck(s: ServerState): Effect[] {
  const d = s.drain;
  if (!d) return [];
  for (const id of d.waiting) if (s.tickets.has(id)) return [];
  return [{ kind: 'clear-timer', timer: DRAIN_TIMER }, ...finishDrain(s)];
}

/** The drain's deadline (or everyone left): the rest of the tickets end. */
export function finishDrain(s: ServerState): Effect[] {
  const d = s.drain;
  if (!d) return [];
  s.drain = null;
  const left = [...d.waiting].filter((id) => s.tickets.has(id)).length;
  const out: Effect[] = [];
  if (d.waiting.size > 0)
    out.push({
      kind: 'log',
      level: 'info',
      msg: 'downstream nodes re-parented',
      fields: { children: d.waiting.size, stillAttached: left },
    });
  for (const t of [...s.tickets.values()].reverse()) out.push(...endTicket(s, t, d.reason, true, d.op));
  return [...out, ...closeOp(s, d.op)];
}
