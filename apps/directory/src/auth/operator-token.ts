import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * The operator's token (ASTRAL_OPERATOR_TOKEN), kept only as its SHA-256 digest. Compared in constant time:
 * both sides are digests of the same length, so neither the token's length nor its bytes leak by timing.
 */
export class OperatorToken {
  private readonly expected?: Buffer;

  constructor(token: string | undefined) {
    if (token) this.expected = digest(token);
  }

  get configured(): boolean {
    return this.expected !== undefined;
  }

  matches(presented: string): boolean {
    return this.expected !== undefined && timingSafeEqual(digest(presented), this.expected);
  }
}

/**
 * The token of an `Authorization: Bearer <token>` header: `none` without the header, `malformed` for another
 * scheme or an empty token.
 */
export function bearerToken(
  authorization: string | undefined,
): { kind: 'none' } | { kind: 'malformed' } | { kind: 'token'; token: string } {
  if (authorization === undefined) return { kind: 'none' };
  const m = /^Bearer +(\S+)\s*$/i.exec(authorization);
  return m ? { kind: 'token', token: m[1] } : { kind: 'malformed' };
}
