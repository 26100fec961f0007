import { PLAY_TOKEN_PATTERN } from '@astral/contracts';
import { NodeKeys } from './node-keys';
import { verifySignature } from './signature';

/**
 * A play token: the directory's word that a viewer was placed on a node for a stream, until a time. The
 * directory signs it with its own key (published to nodes in the registration reply); the node's relay
 * checks it with that public key, so no look-up and no shared secret.
 */
export interface PlayClaims {
  v: 1;
  /** Unique per placement, for logs. */
  placementId: string;
  streamId: string;
  /** The node the viewer was placed on: the token is refused anywhere else. */
  nodeId: string;
  /** Epoch ms: the token is refused from then on. */
  expiresAt: number;
}

export type PlayTokenRefusal = 'bad-format' | 'bad-signature' | 'expired' | 'wrong-node' | 'wrong-stream';

export type PlayTokenVerdict = { ok: true; claims: PlayClaims } | { ok: false; reason: PlayTokenRefusal };

/** For a refused player: what the refusal means and what to do. */
export const PLAY_TOKEN_REFUSALS: Record<PlayTokenRefusal, string> = {
  'bad-format': 'the play token is malformed',
  'bad-signature': 'the play token is not signed by the directory',
  expired: 'the play token has expired; ask the directory for a new placement',
  'wrong-node': 'the play token is for another node',
  'wrong-stream': 'the play token is for another stream',
};

const ID = /^[A-Za-z0-9_-]{1,128}$/;

export function signPlayToken(keys: NodeKeys, claims: Omit<PlayClaims, 'v'>): string {
  const c: PlayClaims = {
    v: 1,
    placementId: claims.placementId,
    streamId: claims.streamId,
    nodeId: claims.nodeId,
    expiresAt: claims.expiresAt,
  };
  const body = Buffer.from(JSON.stringify(c)).toString('base64url');
  return `${body}.${keys.sign(body)}`;
}

/** Checks a token: well-formed, signed by `directoryPublicKey`, not expired, for this node and stream. */
export function verifyPlayToken(
  token: unknown,
  directoryPublicKey: string,
  now: number,
  expect: { nodeId: string; streamId: string },
): PlayTokenVerdict {
  if (typeof token !== 'string' || !PLAY_TOKEN_PATTERN.test(token))
    return { ok: false, reason: 'bad-format' };
  const [body, sig] = token.split('.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'bad-format' };
  }
  if (!isClaims(parsed)) return { ok: false, reason: 'bad-format' };
  if (!verifySignature(directoryPublicKey, body, sig)) return { ok: false, reason: 'bad-signature' };
  if (parsed.expiresAt <= now) return { ok: false, reason: 'expired' };
  if (parsed.nodeId !== expect.nodeId) return { ok: false, reason: 'wrong-node' };
  if (parsed.streamId !== expect.streamId) return { ok: false, reason: 'wrong-stream' };
  return { ok: true, claims: parsed };
}

function isClaims(x: unknown): x is PlayClaims {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const c = x as Record<string, unknown>;
  return (
    c.v === 1 &&
    Object.keys(c).length === 5 &&
    [c.placementId, c.streamId, c.nodeId].every((s) => typeof s === 'string' && ID.test(s)) &&
    typeof c.expiresAt === 'number' &&
    Number.isSafeInteger(c.expiresAt) &&
    c.expiresAt > 0
  );
}
