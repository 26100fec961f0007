import { TICKET_TOKEN_PATTERN } from '@astral/contracts';
import { NodeKeys } from './node-keys';
import { verifySignature } from './signature';

/**
 * A ticket as a capability: the offering (upstream) node signs what its relay may serve, to whom and
 * until when. Its relay checks the signature with its own public key: no look-up, no shared secret.
 */
export interface TicketClaims {
  v: 1;
  ticketId: string;
  streamId: string;
  upstreamNodeId: string;
  downstreamNodeId: string;
  /** The downstream's Ed25519 public key: only its holder can prove it is the downstream. */
  downstreamKey: string;
  /** Epoch ms: the token is refused from then on. */
  expiresAt: number;
}

/** Longer tokens are refused before anything is parsed (a signed token is about 450 characters). */
export const TICKET_TOKEN_MAX_LENGTH = 2048;

export type TicketTokenRefusal =
  'bad-format' | 'bad-signature' | 'expired' | 'wrong-upstream' | 'wrong-stream';

export type TicketTokenVerdict =
  { ok: true; claims: TicketClaims } | { ok: false; reason: TicketTokenRefusal };

/** What the verifier expects the token to name (its own node; the stream asked for). */
export interface TicketExpectations {
  upstreamNodeId?: string;
  streamId?: string;
}

const ID = /^[A-Za-z0-9_-]{1,128}$/;
const KEY = /^[A-Za-z0-9_-]{43}$/;

export function signTicketToken(keys: NodeKeys, claims: Omit<TicketClaims, 'v'>): string {
  const c: TicketClaims = {
    v: 1,
    ticketId: claims.ticketId,
    streamId: claims.streamId,
    upstreamNodeId: claims.upstreamNodeId,
    downstreamNodeId: claims.downstreamNodeId,
    downstreamKey: claims.downstreamKey,
    expiresAt: claims.expiresAt,
  };
  const body = Buffer.from(JSON.stringify(c)).toString('base64url');
  return `${body}.${keys.sign(body)}`;
}

/**
 * The claims of a token, unverified: for its holder (the downstream), which learns its ticket id and
 * expiry from it. Never use them to admit anything.
 */
export function readTicketClaims(token: unknown): TicketClaims | null {
  if (
    typeof token !== 'string' ||
    token.length > TICKET_TOKEN_MAX_LENGTH ||
    !TICKET_TOKEN_PATTERN.test(token)
  )
    return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  return isClaims(parsed) ? parsed : null;
}

/** Checks a token: well-formed, signed by `upstreamPublicKey`, not expired at `now`, naming what is expected. */
export function verifyTicketToken(
  token: unknown,
  upstreamPublicKey: string,
  now: number,
  expect: TicketExpectations = {},
): TicketTokenVerdict {
  const claims = readTicketClaims(token);
  if (!claims) return { ok: false, reason: 'bad-format' };
  const [body, sig] = (token as string).split('.');
  if (!verifySignature(upstreamPublicKey, body, sig)) return { ok: false, reason: 'bad-signature' };
  if (claims.expiresAt <= now) return { ok: false, reason: 'expired' };
  if (expect.upstreamNodeId !== undefined && claims.upstreamNodeId !== expect.upstreamNodeId)
    return { ok: false, reason: 'wrong-upstream' };
  if (expect.streamId !== undefined && claims.streamId !== expect.streamId)
    return { ok: false, reason: 'wrong-stream' };
  return { ok: true, claims };
}

function isClaims(x: unknown): x is TicketClaims {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const c = x as Record<string, unknown>;
  return (
    c.v === 1 &&
    Object.keys(c).length === 7 &&
    [c.ticketId, c.streamId, c.upstreamNodeId, c.downstreamNodeId].every(
      (s) => typeof s === 'string' && ID.test(s),
    ) &&
    typeof c.downstreamKey === 'string' &&
    KEY.test(c.downstreamKey) &&
    typeof c.expiresAt === 'number' &&
    Number.isSafeInteger(c.expiresAt) &&
    c.expiresAt > 0
  );
}
