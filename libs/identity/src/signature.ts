import { KeyObject, createPublicKey, sign, verify } from 'node:crypto';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PUBLIC_KEY = /^[A-Za-z0-9_-]{43}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

/** The raw public key of an Ed25519 KeyObject, base64url. */
export function publicKeyOf(key: KeyObject): string {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(SPKI_ED25519_PREFIX.length).toString('base64url');
}

export function signWith(privateKey: KeyObject, message: string | Buffer): string {
  return sign(null, typeof message === 'string' ? Buffer.from(message) : message, privateKey).toString(
    'base64url',
  );
}

/** Parsed public keys, by their text: verifying with a key seen before skips the DER parse. */
const parsed = new Map<string, KeyObject>();
const PARSED_MAX = 10_000;

function keyObject(publicKey: string): KeyObject | null {
  const cached = parsed.get(publicKey);
  if (cached) return cached;
  if (!PUBLIC_KEY.test(publicKey)) return null;
  let key: KeyObject;
  try {
    key = createPublicKey({
      key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(publicKey, 'base64url')]),
      format: 'der',
      type: 'spki',
    });
  } catch {
    return null;
  }
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(publicKey, key);
  return key;
}

/**
 * Whether `signature` (base64url) is `publicKey`'s Ed25519 signature of `message`. Never throws:
 * a malformed key or signature is simply not valid.
 */
export function verifySignature(publicKey: string, message: string | Buffer, signature: string): boolean {
  if (typeof signature !== 'string' || !SIGNATURE.test(signature)) return false;
  const key = keyObject(publicKey);
  if (!key) return false;
  const bytes = Buffer.from(signature, 'base64url');
  // Only the canonical spelling: the last character carries 2 bits, so 16 spellings decode alike.
  if (bytes.toString('base64url') !== signature) return false;
  try {
    return verify(null, typeof message === 'string' ? Buffer.from(message) : message, key, bytes);
  } catch {
    return false;
  }
}
