import { AstralError, NodeInfo, OutgoingTicket } from '@astral/contracts';
import { NodeKeys, signTicketToken } from '@astral/identity';

/** A ticket this node gave, with what it needs to sign its tokens (never in API replies). */
export interface ServedTicket extends OutgoingTicket {
  /** The requester's public key as the directory lists it: the token names it. */
  requesterKey: string;
  /** Expiry of the last token signed for the ticket (0: none yet). */
  tokenExpiresAt: number;
}

/** Whether a ticket's token is past half its life, so its heartbeat should bring a fresh one. */
export function tokenNeedsRefresh(tokenExpiresAt: number, ttlMs: number, now: number): boolean {
  return tokenExpiresAt - now < ttlMs / 2;
}

/**
 * A token for the ticket's downstream (its node and key), signed by this node and valid for `ttlMs`;
 * the ticket remembers the expiry, so its heartbeats know when to refresh it.
 */
export function signServedToken(
  keys: NodeKeys,
  upstreamNodeId: string,
  t: ServedTicket,
  ttlMs: number,
  now: number,
): string {
  t.tokenExpiresAt = now + ttlMs;
  return signTicketToken(keys, {
    ticketId: t.ticketId,
    streamId: t.streamId,
    upstreamNodeId,
    downstreamNodeId: t.requesterId,
    downstreamKey: t.requesterKey,
    expiresAt: t.tokenExpiresAt,
  });
}

/**
 * The key a requester's token will name, or why it cannot be given a ticket: the directory must list
 * the node, with a key.
 */
export function requesterKeyOf(
  requesterId: string,
  listed: NodeInfo | undefined,
): { key: string } | { refusal: AstralError; listed: boolean } {
  if (listed?.publicKey) return { key: listed.publicKey };
  return {
    listed: listed !== undefined,
    refusal: new AstralError(
      'forbidden',
      listed
        ? `the directory has no public key for node ${requesterId}: its ticket could not name it; register it with its key (upgrade the node)`
        : `node ${requesterId} is not registered with the directory`,
    ),
  };
}

/** A served ticket as the local API lists it: without the requester's key and the token's expiry. */
export function listedTicket({
  requesterKey: _key,
  tokenExpiresAt: _expiry,
  ...t
}: ServedTicket): OutgoingTicket {
  return { ...t, token: null };
}
