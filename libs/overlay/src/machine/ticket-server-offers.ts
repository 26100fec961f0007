import { RelayPatterns } from '@astral/contracts';
import type {
  AstralErrorCode,
  TicketConfirmReply,
  TicketHeartbeat,
  TicketHeartbeatReply,
  TicketReply,
} from '@astral/contracts';
import { committedBps, headroomAfter } from '../headroom';
import { ticketOfferRefusal } from '../advertise';
import { Effect, answer, refuse, requestEffect } from './effects';
import {
  RelayRates,
  ServedTicket,
  ServerState,
  TicketServerInput,
  offerTimer,
  tokenNeedsRefresh,
} from './ticket-server-types';

/*
 * The offering seam of the serving side: request → offer (a reservation with its TTL), confirm → the
 * relay admits the forward → a signed token, and the downstream's heartbeats.
 */

type In<T extends TicketServerInput['type']> = Extract<TicketServerInput, { type: T }>;

/** Upload promised to tickets (offered and confirmed) at the relay's rates, plus the remote players'. */
export function committedWith(s: ServerState, rates: RelayRates, withPlayers: boolean): number {
  const forwards = committedBps(
    [...s.tickets.values()].map((t) => ({
      streamId: t.streamId,
      bitrateBps: t.bitrateBps,
      confirmed: false,
    })),
    (id) => rates.streams[id] ?? 0,
  );
  return forwards + (withPlayers ? rates.playersBps : 0);
}

export function onRequest(s: ServerState, i: In<'request'>, now: number): Effect[] {
  const { req, carried } = i;
  const refusal = (reason: string): Effect[] => [
    {
      kind: 'log',
      level: 'debug',
      msg: 'ticket refused',
      fields: { streamId: req.streamId, requesterId: req.requesterId, reason },
    },
    answer(i.inbound, { refused: reason } satisfies TicketReply),
  ];
  if (s.leaving) return refusal('this node is leaving');
  if (!carried) return refusal('this node does not carry the stream');
  if (req.requesterId === s.config.nodeId || carried.path.includes(req.requesterId))
    return refusal('the requester is upstream of this node (a loop)');
  if ('refused' in i.requester)
    return [
      {
        kind: 'log',
        level: 'warn',
        msg: 'ticket request from a node without a known key refused',
        fields: { requesterId: req.requesterId, streamId: req.streamId, listed: i.requester.listed },
      },
      refuse(i.inbound, 'forbidden', i.requester.refused),
    ];
  // The larger of our relay's measurement and the upstream's (from its offer): right after the pull
  // starts our relay has seen a second or two, often without a keyframe, and under-measures.
  const bitrate = Math.max(i.rates.streams[req.streamId] ?? 0, carried.upstreamBitrateBps ?? 0);
  // Forwards and the relay's remote players share the limit (one budget).
  const committed = committedWith(s, i.rates, true);
  const why = ticketOfferRefusal(
    s.limitBps,
    committed,
    bitrate,
    req.canForward ?? true,
    req.patient ?? false,
  );
  if (why) return refusal(why);
  const ticketId = s.config.newTicketId();
  const expiresAt = now + s.config.offerTtlMs;
  s.tickets.set(ticketId, {
    ticketId,
    streamId: req.streamId,
    requesterId: req.requesterId,
    requesterKey: i.requester.key,
    state: 'offered',
    bitrateBps: bitrate,
    createdAt: now,
    expiresAt,
    lastHeartbeat: now,
    tokenExpiresAt: 0,
  });
  s.revision++;
  const reply: TicketReply = {
    offer: {
      ticketId,
      streamId: req.streamId,
      nodeId: s.config.nodeId,
      hops: carried.hops + 1,
      path: carried.path,
      headroomBps: headroomAfter(s.limitBps, committed, bitrate),
      expiresAt,
      host: s.config.host,
      forwardPort: s.config.forwardPort,
      bitrateBps: bitrate,
    },
  };
  return [
    { kind: 'set-timer', timer: offerTimer(ticketId), afterMs: s.config.offerTtlMs },
    answer(i.inbound, reply),
  ];
}

/** The offer's TTL passed without a confirm: its reservation is freed. */
export function onOfferTimer(s: ServerState, ticketId: string): Effect[] {
  const t = s.tickets.get(ticketId);
  if (t?.state !== 'offered') return [];
  s.tickets.delete(ticketId);
  s.revision++;
  return [
    {
      kind: 'log',
      level: 'debug',
      msg: 'offer lapsed unconfirmed',
      fields: { ticketId, streamId: t.streamId },
    },
  ];
}

export function onConfirm(s: ServerState, i: In<'confirm'>, now: number): Effect[] {
  const t = s.tickets.get(i.msg.ticketId);
  if (!t || t.requesterId !== i.msg.requesterId)
    return [refuse(i.inbound, 'not-found', `no offer ${i.msg.ticketId} for this requester`)];
  if (t.state === 'offered' && t.expiresAt !== null && t.expiresAt < now)
    return [refuse(i.inbound, 'conflict', `offer ${i.msg.ticketId} has lapsed; ask again`)];
  if (!i.carries) return [refuse(i.inbound, 'conflict', 'this node no longer carries the stream')];
  // A confirm again (its reply was lost): the same ticket, a fresh token.
  if (t.state === 'confirmed') return [answer(i.inbound, confirmReply(s, t, now))];
  const waiters = s.confirmWaiters.get(t.ticketId);
  if (waiters) {
    waiters.push(i.inbound);
    return [];
  }
  s.confirmWaiters.set(t.ticketId, [i.inbound]);
  t.state = 'confirming';
  const call = s.calls.open({ kind: 'admit', ticketId: t.ticketId });
  return [
    { kind: 'clear-timer', timer: offerTimer(t.ticketId) },
    requestEffect(
      call,
      RelayPatterns.AdmitForward,
      s.config.nodeId,
      { ticketId: t.ticketId, streamId: t.streamId, downstreamNodeId: t.requesterId },
      s.config.relayTimeoutMs,
    ),
  ];
}

/** The relay admitted the forward (or failed to): the confirm is answered. */
export function onAdmitted(
  s: ServerState,
  ticketId: string,
  failure: { code: AstralErrorCode; message: string } | null,
  now: number,
): Effect[] {
  const waiters = s.confirmWaiters.get(ticketId) ?? [];
  s.confirmWaiters.delete(ticketId);
  const t = s.tickets.get(ticketId);
  if (failure) {
    // No forward: the reservation is freed, the requester asks again.
    if (t?.state === 'confirming') {
      s.tickets.delete(ticketId);
      s.revision++;
    }
    return [
      {
        kind: 'log',
        level: 'warn',
        msg: 'relay did not admit the forward',
        fields: { ticketId, err: failure.message },
      },
      ...waiters.map((w) => refuse(w, failure.code, failure.message)),
    ];
  }
  if (t?.state !== 'confirming') {
    // Ended (cancelled, shed) while the relay admitted it: close the forward it just opened.
    const call = s.calls.open({ kind: 'revoke', ticketId, op: null });
    return [
      requestEffect(
        call,
        RelayPatterns.RevokeForward,
        s.config.nodeId,
        { ticketId, reason: 'the ticket ended before it was confirmed' },
        s.config.relayTimeoutMs,
      ),
      ...waiters.map((w) => refuse(w, 'conflict', `ticket ${ticketId} ended before it was confirmed`)),
    ];
  }
  Object.assign(t, { state: 'confirmed', expiresAt: null, lastHeartbeat: now });
  s.revision++;
  const reply = confirmReply(s, t, now);
  return [
    {
      kind: 'log',
      level: 'info',
      msg: 'ticket confirmed',
      fields: { ticketId, streamId: t.streamId, requesterId: t.requesterId },
    },
    {
      kind: 'publish',
      event: {
        type: 'ticket-created',
        ticketId,
        streamId: t.streamId,
        direction: 'outgoing',
        peerId: t.requesterId,
      },
    },
    // The token only: the requester pulls from the address the directory lists for this node.
    ...waiters.map((w) => answer(w, reply)),
  ];
}

function confirmReply(s: ServerState, t: ServedTicket, now: number): TicketConfirmReply {
  return { ticketId: t.ticketId, token: signToken(s, t, now) };
}

/** A token for the ticket's downstream (its node and key), valid for the token TTL; the ticket remembers its expiry. */
function signToken(s: ServerState, t: ServedTicket, now: number): string {
  t.tokenExpiresAt = now + s.config.ticketTokenTtlMs;
  return s.config.sign({
    ticketId: t.ticketId,
    streamId: t.streamId,
    upstreamNodeId: s.config.nodeId,
    downstreamNodeId: t.requesterId,
    downstreamKey: t.requesterKey,
    expiresAt: t.tokenExpiresAt,
  });
}

/** The downstream's heartbeat: the current path back, and a fresh token once the current one is past half its life. */
export function heartbeatReply(
  s: ServerState,
  msg: TicketHeartbeat,
  path: string[] | undefined,
  now: number,
): TicketHeartbeatReply {
  const t = s.tickets.get(msg.ticketId);
  if (!t || t.requesterId !== msg.requesterId || t.state !== 'confirmed') return { unknown: true };
  t.lastHeartbeat = now;
  if (!tokenNeedsRefresh(t.tokenExpiresAt, s.config.ticketTokenTtlMs, now)) return { ok: true, path };
  return { ok: true, path, token: signToken(s, t, now) };
}
