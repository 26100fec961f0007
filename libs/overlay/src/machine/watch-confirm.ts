import { RelayPatterns, type OpenUpstream, type TicketConfirmReply } from '@astral/contracts';
import { TIMEOUTS, WatchCore } from './watch-core';
import { failRound } from './watch-acquire';
import { confirmRefusal, forwardUrlOf } from './watch-rules';
import type { HeldTicket, Purpose, Round, Watched } from './watch-types';

/*
 * The end of a round (docs/OVERLAY.md "Watching"): the chosen offer confirmed and its token checked, the
 * forward URL built from the listing (never taken from the peer), and the pull opened at this node's relay
 * (as the standby, for a standby round). A failure gives the ticket back and fails the round.
 */

export function onConfirm(
  core: WatchCore,
  w: Watched,
  r: Round,
  reply: TicketConfirmReply | { failed: string },
): void {
  const { offer, listing } = r.chosen!;
  const check = core.cfg.checkConfirm ?? confirmRefusal;
  const refused =
    'failed' in reply
      ? reply.failed
      : check(reply, {
          ticketId: offer.ticketId,
          streamId: w.streamId,
          upstreamNodeId: offer.nodeId,
          nodeId: core.nodeId,
          publicKey: core.cfg.publicKey,
          upstreamKey: listing.publicKey,
          now: core.now,
        });
  if (refused !== null || 'failed' in reply) {
    core.cancel(offer.nodeId, offer.ticketId, 'confirm failed');
    r.offers = [];
    return failRound(core, w, `confirm with ${offer.nodeId} failed: ${refused}`);
  }
  // Built here from the listing, never taken from the peer.
  r.token = forwardUrlOf(listing, w.streamId, reply.token);
  r.step = 'open';
  core.request(
    { kind: 'open', streamId: w.streamId, round: r.id },
    RelayPatterns.OpenUpstream,
    core.nodeId,
    openUpstreamBody(core, w.streamId, offer.nodeId, offer.ticketId, r.token, r.purpose),
    TIMEOUTS.relay,
  );
}

export function openUpstreamBody(
  core: WatchCore,
  streamId: string,
  upstreamNodeId: string,
  ticketId: string,
  url: string,
  purpose: Purpose,
): OpenUpstream {
  const body: OpenUpstream = { streamId, upstreamNodeId, ticketId, url };
  if (purpose === 'standby') {
    body.role = 'standby';
    body.standbyMode = core.cfg.standbyMode;
  }
  return body;
}

/** The relay opened the pull (or refused: `failed`): the ticket now holds. */
export function onOpened(core: WatchCore, w: Watched, r: Round, failed: string | null): HeldTicket | null {
  const { offer } = r.chosen!;
  if (failed !== null) {
    core.cancel(offer.nodeId, offer.ticketId, 'confirm failed');
    r.offers = [];
    failRound(core, w, `confirm with ${offer.nodeId} failed: ${failed}`);
    return null;
  }
  w.round = null;
  w.attempts[r.purpose] = 0;
  return {
    upstreamNodeId: offer.nodeId,
    ticketId: offer.ticketId,
    path: [...offer.path, core.nodeId],
    hops: offer.hops,
    forwardUrl: r.token!,
    since: core.now,
    bitrateBps: offer.bitrateBps,
    misses: 0,
  };
}
