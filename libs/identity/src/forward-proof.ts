import { randomBytes } from 'node:crypto';
import { NodeKeys } from './node-keys';
import { ReplayGuard } from './replay-guard';
import { verifySignature } from './signature';

/** The header a downstream relay sends on every forward pull: `<ts>.<nonce>.<sig>`. */
export const FORWARD_PROOF_HEADER = 'x-astral-proof';
/** How far a proof's timestamp may be from the verifier's clock, either way. */
export const FORWARD_PROOF_WINDOW_MS = 30_000;

const PROOF = /^(\d{1,15})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{86})$/;

export type ForwardProofRefusal = 'no-proof' | 'bad-proof' | 'stale-proof' | 'replayed-proof' | 'busy';

/** The message a proof signs: domain-separated, so no other signed message of Astral can pass for it. */
export function forwardProofMessage(
  ticketId: string,
  upstreamNodeId: string,
  ts: number,
  nonce: string,
): string {
  return `astral-forward-v1\n${ticketId}\n${upstreamNodeId}\n${ts}\n${nonce}`;
}

/** The downstream proves it holds the ticket's downstream key, fresh for this one connection. */
export function signForwardProof(
  keys: NodeKeys,
  ticketId: string,
  upstreamNodeId: string,
  now = Date.now(),
): string {
  const nonce = randomBytes(16).toString('base64url');
  return `${now}.${nonce}.${keys.sign(forwardProofMessage(ticketId, upstreamNodeId, now, nonce))}`;
}

/**
 * Checks a proof against the token's `downstreamKey` (signature first, so garbage never fills the
 * replay guard), then its freshness and its nonce (taken once).
 */
export function verifyForwardProof(
  header: unknown,
  downstreamKey: string,
  ticketId: string,
  upstreamNodeId: string,
  guard: ReplayGuard,
): { ok: true } | { ok: false; reason: ForwardProofRefusal } {
  if (header === undefined || header === null || header === '') return { ok: false, reason: 'no-proof' };
  const m = typeof header === 'string' ? PROOF.exec(header) : null;
  if (!m) return { ok: false, reason: 'bad-proof' };
  const [, tsText, nonce, sig] = m;
  const ts = Number(tsText);
  if (!verifySignature(downstreamKey, forwardProofMessage(ticketId, upstreamNodeId, ts, nonce), sig))
    return { ok: false, reason: 'bad-proof' };
  const verdict = guard.check(`${ticketId}:${nonce}`, ts);
  if (verdict === 'stale') return { ok: false, reason: 'stale-proof' };
  if (verdict === 'replayed') return { ok: false, reason: 'replayed-proof' };
  if (verdict === 'busy') return { ok: false, reason: 'busy' };
  return { ok: true };
}
