import {
  AgentPatterns,
  DirectoryPatterns,
  type CarrierInfo,
  type NodeInfo,
  type TicketOffer,
  type TicketReply,
} from '@astral/contracts';
import { candidateWindow } from '../advertise';
import { candidateOrder, failoverExclusion, selectOffer } from '../ticket-selection';
import { PATIENT_AFTER_MS, STANDBY_UPGRADE_MS, TIMEOUTS, WatchCore, retryTimer } from './watch-core';
import {
  WATCH_DEADLINE_MS,
  acquireBackoffMs,
  listedAddressOf,
  offerRefusal,
  selectStandbyOffer,
  sortTicketReplies,
} from './watch-rules';
import type { Purpose, Round, Watched } from './watch-types';

/*
 * One round of ticket negotiation for a watched stream (docs/OVERLAY.md "Watching"): carriers from the
 * supernode and the directory, ticket requests to a window of candidates at once, the offers believed
 * against the listings, RTTs, the choice, confirm, and the pull opened. A round that fails schedules the
 * next with backoff; the round that holds is installed by the caller's `held` (primary or standby).
 */

/** The most listings kept (a simulator holds many machines; the agent asks again on a miss). */
const MAX_LISTINGS = 1000;

/** The nodes a round for `purpose` will not take the stream from. */
function exclusionFor(core: WatchCore, w: Watched, purpose: Purpose): Set<string> {
  const source = w.stream!.sourceNodeId;
  if (purpose === 'standby')
    return new Set([w.primary?.upstreamNodeId, w.standby?.upstreamNodeId].filter((id) => id !== undefined));
  const early = core.now - w.tryingSince.primary < WATCH_DEADLINE_MS;
  const out = w.failover ? failoverExclusion(w.failover.lostNodeId, source, early) : new Set<string>();
  // The standby's upstream is no primary while the standby holds (else both pulls share a node).
  if (early && w.standby && w.standby.upstreamNodeId !== source) out.add(w.standby.upstreamNodeId);
  return out;
}

export function startRound(core: WatchCore, w: Watched, purpose: Purpose): void {
  if (core.facts.leaving || !w.stream || w.round) return;
  if (w.attempts[purpose] === 0) w.tryingSince[purpose] = core.now;
  const r: Round = {
    id: core.roundId(),
    purpose,
    exclude: exclusionFor(core, w, purpose),
    step: 'carriers',
    carriers: [],
    pendingCarrierCalls: 1,
    asked: [],
    replies: new Map(),
    offers: [],
    reasons: [],
    freshListings: false,
    believed: [],
    rtts: new Map(),
    pendingRtts: 0,
  };
  w.round = r;
  const streamId = w.streamId;
  const call = { kind: 'carriers' as const, streamId, round: r.id };
  // Both asked at once: a dead supernode must not delay a failover by its timeout.
  core.request(call, DirectoryPatterns.ListCarriers, null, { streamId }, TIMEOUTS.directory);
  const supernodeId = core.facts.supernodeId;
  if (supernodeId) {
    r.pendingCarrierCalls++;
    core.request(
      { ...call, supernode: true },
      AgentPatterns.SupernodeCarriers,
      supernodeId,
      { streamId, requesterId: core.nodeId },
      TIMEOUTS.supernode,
    );
  }
}

/** A carrier list came back (or null: the asked node did not answer). Supernode carriers rank first. */
export function onCarriers(
  core: WatchCore,
  w: Watched,
  r: Round,
  list: CarrierInfo[] | null,
  fromSupernode: boolean,
): void {
  if (list) r.carriers = fromSupernode ? [...list, ...r.carriers] : [...r.carriers, ...list];
  if (--r.pendingCarrierCalls > 0) return;
  const seen = new Set<string>();
  const carriers = r.carriers.filter((c) => !seen.has(c.nodeId) && seen.add(c.nodeId));
  const order = candidateOrder(core.nodeId, carriers, [], w.stream!.sourceNodeId, r.exclude);
  if (order.length === 0) return failRound(core, w, 'no node carries the stream');
  // A retry asks the next candidates along the order, not the same refusers again.
  r.asked = candidateWindow(order, w.attempts[r.purpose]);
  r.step = 'offers';
  const patient = core.now - w.tryingSince[r.purpose] > PATIENT_AFTER_MS;
  for (const nodeId of r.asked)
    core.request(
      { kind: 'offer', streamId: w.streamId, round: r.id, nodeId },
      AgentPatterns.TicketRequest,
      nodeId,
      {
        streamId: w.streamId,
        requesterId: core.nodeId,
        exclude: [...r.exclude],
        canForward: core.facts.canForward,
        patient,
      },
      TIMEOUTS.peer,
    );
}

export function onOffer(
  core: WatchCore,
  w: Watched,
  r: Round,
  nodeId: string,
  result: PromiseSettledResult<TicketReply>,
): void {
  r.replies.set(nodeId, result);
  if (r.replies.size < r.asked.length) return;
  const sorted = sortTicketReplies(
    r.asked,
    r.asked.map((n) => r.replies.get(n)!),
  );
  r.offers = sorted.offers;
  r.reasons = sorted.reasons;
  believe(core, w, r);
}

/** Keeps the offers whose address and path are believable; asks the directory again once on a doubt. */
function believe(core: WatchCore, w: Watched, r: Round): void {
  const { streamId, sourceNodeId } = w.stream!;
  const doubted = r.offers.filter(
    (o) => offerRefusal(o, streamId, sourceNodeId, core.listingsOf(o.nodeId)) !== null,
  );
  if (doubted.length > 0 && !r.freshListings) {
    r.freshListings = true;
    r.step = 'listings';
    core.request(
      { kind: 'listings', streamId, round: r.id },
      DirectoryPatterns.ListNodes,
      null,
      {},
      TIMEOUTS.directory,
    );
    return;
  }
  r.believed = [];
  for (const offer of r.offers) {
    const listings = core.listingsOf(offer.nodeId);
    const why = offerRefusal(offer, streamId, sourceNodeId, listings);
    const listing = listedAddressOf(offer, listings);
    if (why === null && listing) {
      r.believed.push({ offer, listing });
      continue;
    }
    core.log('warn', 'ticket offer refused', { streamId, offeringNodeId: offer.nodeId, reason: why });
    r.reasons.push(`${offer.nodeId.slice(0, 8)}: refused its offer: ${why}`);
    core.cancel(offer.nodeId, offer.ticketId, `offer refused: ${why}`);
  }
  r.offers = r.believed.map((b) => b.offer);
  if (r.believed.length === 0) return failRound(core, w, r.reasons.join('; '));
  r.step = 'rtt';
  r.pendingRtts = r.believed.length;
  for (const b of r.believed)
    core.out.push({
      kind: 'measure-rtt',
      call: core.calls.open({ kind: 'rtt', streamId, round: r.id, nodeId: b.offer.nodeId }),
      host: b.offer.host,
      port: b.offer.forwardPort,
    });
}

/**
 * The directory's node list (or null: it did not answer). Kept whole up to MAX_LISTINGS, this round's
 * offerers first, so later offers from the same network need no look-up (a simulator may answer with
 * only the offerers).
 */
export function onListings(core: WatchCore, w: Watched, r: Round, nodes: NodeInfo[] | null): void {
  if (nodes) {
    const wanted = new Set(r.offers.map((o) => o.nodeId));
    core.listings = new Map();
    const keep = (n: NodeInfo) =>
      core.listings.set(n.nodeId, {
        host: n.host,
        forwardPort: n.forwardPort,
        publicKey: n.publicKey ?? null,
      });
    for (const n of nodes) if (wanted.has(n.nodeId)) keep(n);
    for (const n of nodes) if (core.listings.size < MAX_LISTINGS && !wanted.has(n.nodeId)) keep(n);
  }
  believe(core, w, r);
}

export function onRtt(core: WatchCore, w: Watched, r: Round, nodeId: string, rttMs: number | null): void {
  if (rttMs !== null) r.rtts.set(nodeId, rttMs);
  if (--r.pendingRtts > 0) return;
  const source = w.stream!.sourceNodeId;
  let chosen: TicketOffer | null;
  let rejected: TicketOffer[];
  if (r.purpose === 'standby' && w.primary) {
    const pick = selectStandbyOffer(core.nodeId, r.offers, w.primary.path, r.rtts, r.exclude, source);
    ({ chosen, rejected } = pick);
    if (chosen && !pick.disjoint && w.standby) {
      // An upgrade round found no disjoint offer: keep the standby held, give these back.
      core.cancel(chosen.nodeId, chosen.ticketId, 'another offer was chosen');
      for (const o of rejected) core.cancel(o.nodeId, o.ticketId, 'another offer was chosen');
      r.offers = [];
      return failRound(core, w, 'no disjoint standby offered');
    }
    if (chosen && !pick.disjoint)
      core.log('info', 'no disjoint standby offered; took the best other upstream', {
        streamId: w.streamId,
        upstreamNodeId: chosen.nodeId,
        path: chosen.path,
      });
  } else ({ chosen, rejected } = selectOffer(core.nodeId, r.offers, r.rtts, r.exclude, source));
  for (const o of rejected) core.cancel(o.nodeId, o.ticketId, 'another offer was chosen');
  r.offers = chosen ? [chosen] : [];
  if (!chosen) return failRound(core, w, 'every offer would make a loop');
  r.chosen = r.believed.find((b) => b.offer === chosen)!;
  r.step = 'confirm';
  core.request(
    { kind: 'confirm', streamId: w.streamId, round: r.id },
    AgentPatterns.TicketConfirm,
    chosen.nodeId,
    { ticketId: chosen.ticketId, requesterId: core.nodeId },
    TIMEOUTS.peer,
  );
}

/** The round found nothing: the next one after the backoff (for as long as the stream is watched). */
export function failRound(core: WatchCore, w: Watched, reason: string): void {
  const purpose = w.round?.purpose ?? 'primary';
  w.round = null;
  if (purpose === 'primary') w.lastReason = reason;
  // A stream that played recovers at the quick pace for as long as it takes; a new watch slows down
  // after the watch deadline.
  const waited = purpose === 'primary' && w.failover ? 0 : core.now - w.tryingSince[purpose];
  // An upgrade round (a standby is held, not disjoint) waits the upgrade interval, not the backoff.
  const delay =
    purpose === 'standby' && w.standby ? STANDBY_UPGRADE_MS : acquireBackoffMs(++w.attempts[purpose], waited);
  w.retrying[purpose] = true;
  core.setTimer(retryTimer(purpose, w.streamId), delay);
  core.log('debug', `no ${purpose} ticket this round; trying again`, {
    streamId: w.streamId,
    attempt: w.attempts[purpose],
    retryInMs: delay,
    reason,
  });
}

/** Drops the round in flight: its late answers are ignored, the offers it holds are given back. */
export function abandonRound(core: WatchCore, w: Watched, reason: string): void {
  const r = w.round;
  if (!r) return;
  for (const o of r.offers) core.cancel(o.nodeId, o.ticketId, reason);
  // Late offers still come back, to be cancelled (see WatchMachine); the rest is ignored.
  core.calls.forget(
    (c) => c.streamId === w.streamId && 'round' in c && c.round === r.id && c.kind !== 'offer',
  );
  w.round = null;
}
