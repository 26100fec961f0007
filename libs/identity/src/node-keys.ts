import { KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publicKeyOf, signWith } from './signature';

/** A node's Ed25519 key pair: its public key as the directory records it, and a signer. */
export interface NodeKeys {
  /** Raw 32 bytes, base64url (PUBLIC_KEY_PATTERN of @astral/contracts). */
  readonly publicKey: string;
  sign(message: string | Buffer): string;
}

export const NODE_KEY_FILE = 'node-key.pem';

/**
 * The node's key pair, kept in its data directory (`node-key.pem`, PKCS#8, mode 0600) so it survives
 * restarts. Created exclusively, so the agent and the relay starting at once agree on one key: the loser
 * of the race reads the winner's file.
 */
export function loadOrCreateNodeKeys(dataDir: string): NodeKeys {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, NODE_KEY_FILE);
  const { privateKey } = generateKeyPairSync('ed25519');
  try {
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (let attempt = 0; ; attempt++) {
    const pem = readFileSync(file, 'utf8');
    if (pem.includes('END PRIVATE KEY')) return nodeKeysFrom(createPrivateKey(pem), file);
    if (attempt > 50)
      throw new Error(`${file} does not hold an Ed25519 private key (PEM); delete it to get a new identity`);
    // The other process created the file but has not written it yet.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

/** Keys that live only in memory (tests, benches). */
export function generateNodeKeys(): NodeKeys {
  return nodeKeysFrom(generateKeyPairSync('ed25519').privateKey, 'memory');
}

function nodeKeysFrom(privateKey: KeyObject, where: string): NodeKeys {
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error(`${where} holds a ${privateKey.asymmetricKeyType} key; Astral nodes use Ed25519`);
  const publicKey = publicKeyOf(createPublicKey(privateKey));
  return { publicKey, sign: (message) => signWith(privateKey, message) };
}
