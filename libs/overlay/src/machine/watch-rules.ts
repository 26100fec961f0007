import { TicketConfirmReply, TicketOffer, TicketReply } from '@astral/contracts';
import { urlHost } from '@astral/config';
import { OfferCandidate, selectOffer } from '../ticket-selection';
import { readTicketClaims, verifyTicketToken } from '@astral/identity';

/** The offers among the replies to one round of ticket requests, and why each other candidate gave none. */
export interface SortedTicketReplies {
  offers: TicketOffer[];
  /** One line per candidate without an offer: its id's first 8 characters, then its refusal or error. */
  reasons: string[];
}

/**
 * Sorts the settled replies of `asked` (same order) into offers and reasons. An offer must come as the
 * node asked: one that names another node (to pass its address off as the asked node's) is refused.
 */
export function sortTicketReplies(
  asked: readonly string[],
  replies: readonly PromiseSettledResult<TicketReply>[],
): SortedTicketReplies {
  const offers: TicketOffer[] = [];
  const reasons: string[] = [];
  replies.forEach((r, i) => {
    if (r.status === 'fulfilled' && 'offer' in r.value && r.value.offer.nodeId !== asked[i])
      reasons.push(`${asked[i].slice(0, 8)}: refused its offer: it names another node`);
    else if (r.status === 'fulfilled' && 'offer' in r.value) offers.push(r.value.offer);
    else
      reasons.push(
        `${asked[i].slice(0, 8)}: ${r.status === 'fulfilled' && 'refused' in r.value ? r.value.refused : (r as PromiseRejectedResult).reason}`,
      );
  });
  return { offers, reasons };
}

/** How long the local API's watch call waits for a ticket before it answers (the machine keeps trying). */
export const WATCH_DEADLINE_MS = 10_000;
/** The longest pause between rounds once a watcher has waited past the watch deadline. */
export const ACQUIRE_BACKOFF_CAP_MS = 3000;

/**
 * The pause before the attempt-th round of ticket requests (none before the first): 150 ms more each
 * round, at most 1 s while the watcher has waited less than the watch deadline (`waitedMs`), then
 * ACQUIRE_BACKOFF_CAP_MS: a watcher keeps trying for as long as it watches, at a bounded cost.
 */
export function acquireBackoffMs(attempt: number, waitedMs = 0): number {
  if (attempt <= 0) return 0;
  return waitedMs < WATCH_DEADLINE_MS ? Math.min(1000, 150 * attempt) : ACQUIRE_BACKOFF_CAP_MS;
}

/** Where a node may be reached, as the directory or the operator's seed list says. */
export interface PeerListing {
  host: string;
  forwardPort: number;
  /** The node's Ed25519 key, when the directory has it (seeds carry none). */
  publicKey: string | null;
}

/** The listing whose address the offer names, if any. */
export function listedAddressOf<L extends PeerListing>(
  offer: TicketOffer,
  listings: readonly L[],
): L | undefined {
  return listings.find((l) => l.host === offer.host && l.forwardPort === offer.forwardPort);
}

/**
 * Why an offer is not believed, or null: a peer's host and port must be those listed for it (else it
 * could point our relay at any address: a blind SSRF), and its hops and path must agree with each other,
 * start at the stream's source and end with itself (a node claiming fewer hops would attract every
 * viewer). A path that is consistent but false cannot be caught without signed paths.
 */
export function offerRefusal(
  offer: TicketOffer,
  streamId: string,
  sourceNodeId: string,
  listings: readonly PeerListing[],
): string | null {
  if (offer.streamId !== streamId) return 'the offer is for another stream';
  if (listings.length === 0) return 'the node is not listed by the directory or the seeds';
  if (!listedAddressOf(offer, listings))
    return `the offer names ${offer.host}:${offer.forwardPort}, not the node's listed address`;
  const path = offer.path;
  if (offer.hops !== path.length) return `the offer claims ${offer.hops} hops on a path of ${path.length}`;
  if (path[path.length - 1] !== offer.nodeId) return 'the offer path does not end with the offering node';
  if (path[0] !== sourceNodeId) return "the offer path does not start at the stream's source";
  if (new Set(path).size !== path.length) return 'the offer path repeats a node';
  return null;
}

/** What the requester checks a confirmation's token against. */
export interface ConfirmExpectations {
  ticketId: string;
  streamId: string;
  upstreamNodeId: string;
  /** Ourselves: the token must name us and our key, or our relay could not prove it holds it. */
  nodeId: string;
  publicKey: string;
  /** The upstream's key from the directory; null (a seed, a directory without keys): claims only. */
  upstreamKey: string | null;
  now: number;
}

/** Why a confirmation is not usable, or null. */
export function confirmRefusal(reply: TicketConfirmReply, e: ConfirmExpectations): string | null {
  if (reply.ticketId !== e.ticketId) return 'the confirmation is for another ticket';
  let claims = readTicketClaims(reply.token);
  if (e.upstreamKey !== null) {
    const v = verifyTicketToken(reply.token, e.upstreamKey, e.now, {
      upstreamNodeId: e.upstreamNodeId,
      streamId: e.streamId,
    });
    if (!v.ok) return `the ticket token is refused (${v.reason})`;
    claims = v.claims;
  }
  if (!claims) return 'the ticket token is malformed';
  if (
    claims.ticketId !== e.ticketId ||
    claims.streamId !== e.streamId ||
    claims.upstreamNodeId !== e.upstreamNodeId
  )
    return 'the ticket token names another ticket';
  if (claims.downstreamNodeId !== e.nodeId || claims.downstreamKey !== e.publicKey)
    return 'the ticket token names another downstream';
  return null;
}

/** The forward URL our relay pulls: the listed address of the upstream, the stream, the token. */
export function forwardUrlOf(
  listing: Pick<PeerListing, 'host' | 'forwardPort'>,
  streamId: string,
  token: string,
): string {
  return `http://${urlHost(listing.host)}:${listing.forwardPort}/forward/${streamId}.flv?ticket=${token}`;
}

/** The same forward URL with a fresh token. */
export function withTicketToken(forwardUrl: string, token: string): string {
  const url = new URL(forwardUrl);
  url.searchParams.set('ticket', token);
  return url.toString();
}

/**
 * Whether a standby offer's path shares no node with the primary's below the source: `offerPath` is the
 * offerer's (source first, the offerer last), `primaryPath` this node's (source first, this node last).
 */
export function disjointFrom(offerPath: readonly string[], primaryPath: readonly string[]): boolean {
  const above = new Set(primaryPath.slice(1, -1));
  return offerPath.slice(1).every((id) => !above.has(id));
}

/**
 * Picks the standby among offers: never the primary's upstream, never a loop; among the offers whose
 * path is disjoint from the primary's (below the source) when there are any, else the best of the rest
 * (`disjoint` false: the tree allows no disjoint path now). Same order as selectOffer.
 */
export function selectStandbyOffer<T extends OfferCandidate>(
  requesterId: string,
  offers: T[],
  primaryPath: readonly string[],
  rttMs: ReadonlyMap<string, number> = new Map(),
  exclude: ReadonlySet<string> = new Set(),
  lastResortId?: string,
): { chosen: T | null; rejected: T[]; disjoint: boolean } {
  const primaryUpstream = primaryPath[primaryPath.length - 2];
  const allowed = offers.filter((o) => o.nodeId !== primaryUpstream);
  const disjoint = allowed.filter((o) => disjointFrom(o.path, primaryPath));
  const pool = disjoint.length > 0 ? disjoint : allowed;
  const { chosen } = selectOffer(requesterId, pool, rttMs, exclude, lastResortId);
  return {
    chosen,
    rejected: offers.filter((o) => o !== chosen),
    disjoint: chosen !== null && disjointFrom(chosen.path, primaryPath),
  };
}
