import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_KEY_FILE, generateNodeKeys, loadOrCreateNodeKeys } from './node-keys';
import { ReplayGuard } from './replay-guard';
import { verifySignature } from './signature';

describe('node keys', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'astral-keys-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps one key pair in the data directory, private to its owner', () => {
    const first = loadOrCreateNodeKeys(dir);
    const again = loadOrCreateNodeKeys(dir);
    expect(again.publicKey).toBe(first.publicKey);
    expect(first.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dir, NODE_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, NODE_KEY_FILE), 'utf8')).toContain('BEGIN PRIVATE KEY');
  });

  it('says what to do with a file that is not a key', () => {
    writeFileSync(join(dir, NODE_KEY_FILE), 'garbage');
    expect(() => loadOrCreateNodeKeys(dir)).toThrow(/delete it to get a new identity/);
  });
});

describe('signatures', () => {
  const keys = generateNodeKeys();
  const other = generateNodeKeys();

  it("verify with the signer's key, and only for the message signed", () => {
    const sig = keys.sign('end stream x');
    expect(verifySignature(keys.publicKey, 'end stream x', sig)).toBe(true);
    expect(verifySignature(keys.publicKey, 'end stream y', sig)).toBe(false);
    expect(verifySignature(other.publicKey, 'end stream x', sig)).toBe(false);
  });

  it('treat malformed keys and signatures as invalid without throwing', () => {
    const sig = keys.sign('m');
    expect(verifySignature('not-a-key', 'm', sig)).toBe(false);
    expect(verifySignature('A'.repeat(43), 'm', sig)).toBe(false);
    expect(verifySignature(keys.publicKey, 'm', 'x')).toBe(false);
    expect(verifySignature(keys.publicKey, 'm', undefined as unknown as string)).toBe(false);
    const flipped = Buffer.from(sig, 'base64url');
    flipped[10] ^= 0x01;
    expect(verifySignature(keys.publicKey, 'm', flipped.toString('base64url'))).toBe(false);
  });

  it('accept only the canonical spelling of a signature', () => {
    const sig = keys.sign('m');
    const last = sig.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The last character's 4 low bits are padding: its 15 siblings decode to the same bytes.
    const sibling = alphabet[(alphabet.indexOf(last) & ~0x0f) | ((alphabet.indexOf(last) + 1) & 0x0f)];
    expect(Buffer.from(sig.slice(0, -1) + sibling, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
    expect(verifySignature(keys.publicKey, 'm', sig)).toBe(true);
    expect(verifySignature(keys.publicKey, 'm', sig.slice(0, -1) + sibling)).toBe(false);
  });
});

describe('ReplayGuard', () => {
  let now = 1_000_000;
  const guard = (max = 100) => new ReplayGuard(30_000, max, () => now);

  it('takes a nonce once within the window, and refuses it again', () => {
    const g = guard();
    expect(g.check('n1', now)).toBe('fresh');
    expect(g.check('n1', now)).toBe('replayed');
    expect(g.check('n2', now - 29_000)).toBe('fresh');
  });

  it('refuses timestamps outside the window either way', () => {
    const g = guard();
    expect(g.check('old', now - 31_000)).toBe('stale');
    expect(g.check('future', now + 31_000)).toBe('stale');
    expect(g.check('nan', Number.NaN)).toBe('stale');
  });

  it('stays bounded: past its size it forgets expired nonces, else refuses as busy', () => {
    const g = guard(2);
    expect(g.check('a', now)).toBe('fresh');
    expect(g.check('b', now)).toBe('fresh');
    expect(g.check('c', now)).toBe('busy');
    now += 31_000;
    expect(g.check('c', now)).toBe('fresh');
    expect(g.size).toBe(1);
  });
});
