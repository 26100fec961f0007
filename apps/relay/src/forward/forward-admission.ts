import {
  ForwardProofRefusal,
  ReplayGuard,
  TicketClaims,
  TicketTokenRefusal,
  verifyForwardProof,
  verifyTicketToken,
} from '@astral/identity';
import { Admission } from './forward-registry';

export type ForwardRefusal =
  'no-ticket' | TicketTokenRefusal | 'not-admitted' | 'wrong-downstream' | ForwardProofRefusal;

/** What a pull shows: its stream, the ticket token (`?ticket=`) and the proof header. */
export interface ForwardPull {
  streamId: string;
  token: string | null;
  proof: string | string[] | undefined;
}

export interface ForwardVerifier {
  /** This relay's node and its public key: a token must be signed by it, for it. */
  nodeId: string;
  publicKey: string;
  /** The live tickets its agent admitted. */
  admission: (ticketId: string) => Admission | undefined;
  proofs: ReplayGuard;
  now: number;
}

/** For the 403 body: what the refused puller should do. */
export const FORWARD_REFUSALS: Record<ForwardRefusal, string> = {
  'no-ticket': 'a ticket token is required (?ticket=…); ask the node for a ticket',
  'bad-format': 'the ticket token is malformed',
  'bad-signature': 'the ticket token is not signed by this node',
  expired: 'the ticket token has expired; the ticket heartbeat brings a fresh one',
  'wrong-upstream': 'the ticket token is for another node',
  'wrong-stream': 'the ticket token is for another stream',
  'not-admitted': 'the ticket has ended (revoked, or its forward closed); ask for a new ticket',
  'wrong-downstream': 'the ticket was given to another node',
  'no-proof': 'the X-Astral-Proof header is required (the downstream key signs ticket, node, time and nonce)',
  'bad-proof': "the X-Astral-Proof header is not the ticket's downstream key's signature",
  'stale-proof': "the X-Astral-Proof timestamp is more than 30 s from this node's clock",
  'replayed-proof': 'the X-Astral-Proof nonce was already used; sign a fresh proof for every connection',
  busy: 'too many proofs within 30 s; try again shortly',
};

/**
 * Whether a forward pull may be served: a token this relay's node signed for this stream, not expired,
 * of a ticket still admitted for the downstream it names, and a fresh proof by that downstream's key
 * (so a token seen on the wire is useless to anyone else, and a proof seen on the wire cannot be replayed).
 */
export function verifyForwardPull(
  pull: ForwardPull,
  v: ForwardVerifier,
): { ok: true; claims: TicketClaims; admission: Admission } | { ok: false; reason: ForwardRefusal } {
  if (!pull.token) return { ok: false, reason: 'no-ticket' };
  const token = verifyTicketToken(pull.token, v.publicKey, v.now, {
    upstreamNodeId: v.nodeId,
    streamId: pull.streamId,
  });
  if (!token.ok) return token;
  const { claims } = token;
  const admission = v.admission(claims.ticketId);
  if (!admission || admission.streamId !== claims.streamId) return { ok: false, reason: 'not-admitted' };
  if (admission.downstreamNodeId !== claims.downstreamNodeId)
    return { ok: false, reason: 'wrong-downstream' };
  const proof = verifyForwardProof(pull.proof, claims.downstreamKey, claims.ticketId, v.nodeId, v.proofs);
  if (!proof.ok) return proof;
  return { ok: true, claims, admission };
}
