import { createHash, randomBytes } from 'node:crypto';
import {
  HTTP_SIGNATURE_SCHEME,
  NONCE_PATTERN,
  NodeSignatureHeaders,
  SIGNED_REQUEST_WINDOW_MS,
} from '@astral/contracts';
import { NodeKeys } from './node-keys';
import { ReplayGuard } from './replay-guard';
import { verifySignature } from './signature';

/** A node that signs its HTTP requests: its id and its key pair. */
export interface RequestSigner {
  readonly nodeId: string;
  readonly keys: NodeKeys;
}

/** A body as sent: the exact bytes (or their UTF-8 text); none is the empty string. */
export type SignedBody = Buffer | string | undefined;

/**
 * The one text a node signs for an HTTP request, and the directory verifies: the scheme, the method, the path
 * with its query exactly as sent, the timestamp, the nonce and the hex SHA-256 of the raw body, one per line.
 */
export function canonicalRequest(
  method: string,
  pathWithQuery: string,
  timestampMs: string,
  nonce: string,
  body: SignedBody,
): string {
  const bodyHash = createHash('sha256')
    .update(body ?? '')
    .digest('hex');
  return [HTTP_SIGNATURE_SCHEME, method.toUpperCase(), pathWithQuery, timestampMs, nonce, bodyHash].join(
    '\n',
  );
}

/**
 * The X-Astral-* headers that make a request `signer`'s own: add them to the request as is. `body` must be the
 * exact bytes sent (sign the JSON text you send, not an object).
 */
export function signedRequestHeaders(
  signer: RequestSigner,
  method: string,
  pathWithQuery: string,
  body?: SignedBody,
  now: number = Date.now(),
): Record<string, string> {
  const timestamp = String(now);
  const nonce = randomBytes(18).toString('base64url');
  const signature = signer.keys.sign(canonicalRequest(method, pathWithQuery, timestamp, nonce, body));
  return {
    [NodeSignatureHeaders.node]: signer.nodeId,
    [NodeSignatureHeaders.timestamp]: timestamp,
    [NodeSignatureHeaders.nonce]: nonce,
    [NodeSignatureHeaders.signature]: signature,
  };
}

/** The claim a signed request makes: who signed it, when, with which nonce and signature. */
export interface SignedRequestClaim {
  nodeId: string;
  timestamp: string;
  nonce: string;
  signature: string;
}

type Headers = Record<string, string | string[] | undefined>;

const header = (headers: Headers, name: string): string | undefined => {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
};

/**
 * The signature claim in a request's headers: `none` if it carries no X-Astral-* header at all, else the claim,
 * or why it cannot be one (a header missing, repeated or malformed).
 */
export function readSignedRequestClaim(
  headers: Headers,
): { kind: 'none' } | { kind: 'claim'; claim: SignedRequestClaim } | { kind: 'malformed'; reason: string } {
  const names = Object.values(NodeSignatureHeaders);
  if (names.every((n) => headers[n] === undefined)) return { kind: 'none' };
  const [nodeId, timestamp, nonce, signature] = names.map((n) => header(headers, n));
  const missing = names.filter((n) => header(headers, n) === undefined);
  if (missing.length > 0 || !nodeId || !timestamp || !nonce || !signature)
    return {
      kind: 'malformed',
      reason: `the signature headers are incomplete: ${missing.join(', ')} missing or repeated`,
    };
  if (!/^\d{1,16}$/.test(timestamp))
    return { kind: 'malformed', reason: `${NodeSignatureHeaders.timestamp} must be epoch milliseconds` };
  if (!NONCE_PATTERN.test(nonce))
    return { kind: 'malformed', reason: `${NodeSignatureHeaders.nonce} must be 16-64 base64url characters` };
  return { kind: 'claim', claim: { nodeId, timestamp, nonce, signature } };
}

export type SignedRequestVerdict =
  { ok: true } | { ok: false; reason: 'bad-signature' | 'stale' | 'replayed' | 'busy'; message: string };

/** The request as received: what the canonical string is built from. */
export interface ReceivedRequest {
  method: string;
  pathWithQuery: string;
  /** The raw body bytes; undefined when there was none. */
  body: SignedBody;
}

/**
 * Whether `claim` is a valid signature of `request` by `publicKey`, made within the replay window and not seen
 * before. The signature is checked before the nonce is remembered, so unsigned traffic cannot fill `replays`.
 */
export function verifySignedRequest(
  claim: SignedRequestClaim,
  request: ReceivedRequest,
  publicKey: string,
  replays: ReplayGuard,
): SignedRequestVerdict {
  const text = canonicalRequest(
    request.method,
    request.pathWithQuery,
    claim.timestamp,
    claim.nonce,
    request.body,
  );
  if (!verifySignature(publicKey, text, claim.signature))
    return {
      ok: false,
      reason: 'bad-signature',
      message: `the signature is not node ${claim.nodeId}'s signature of this request (method, path, timestamp, nonce, body)`,
    };
  switch (replays.check(`${claim.nodeId}:${claim.nonce}`, Number(claim.timestamp))) {
    case 'fresh':
      return { ok: true };
    case 'stale':
      return {
        ok: false,
        reason: 'stale',
        message: `the signed timestamp is more than ${SIGNED_REQUEST_WINDOW_MS / 1000} s from the directory's clock; check the node's clock and sign again`,
      };
    case 'replayed':
      return {
        ok: false,
        reason: 'replayed',
        message: 'this signed request was already received; sign each request anew',
      };
    case 'busy':
      return {
        ok: false,
        reason: 'busy',
        message: 'too many signed requests at once; retry in a few seconds',
      };
  }
}
