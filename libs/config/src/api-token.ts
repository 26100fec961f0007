import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file in a node's data directory that holds its agent API token. */
export const API_TOKEN_FILE = 'api-token';

/** What a token must look like: URL-safe characters, at least 32 of them. */
export const API_TOKEN_PATTERN = /^[A-Za-z0-9._~-]{32,512}$/;

export function apiTokenPath(dataDir: string): string {
  return join(dataDir, API_TOKEN_FILE);
}

/**
 * The node's agent API token, kept in `<dataDir>/api-token` (mode 0600) so that the CLI on the same
 * machine can read it. Safe when the agent and `astral node start` create it at the same moment: the
 * file is created exclusively, and the loser reads the winner's token.
 */
export function loadOrCreateApiToken(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(apiTokenPath(dataDir), `${randomBytes(32).toString('base64url')}\n`, {
      flag: 'wx',
      mode: 0o600,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readToken(apiTokenPath(dataDir));
}

/**
 * The token in `<dataDir>/api-token`, or undefined when there is none (no node has started with this
 * data directory). Never creates it: that is the node's job.
 */
export function readApiToken(dataDir: string): string | undefined {
  const file = apiTokenPath(dataDir);
  return existsSync(file) ? readToken(file) : undefined;
}

function readToken(file: string): string {
  for (let attempt = 0; ; attempt++) {
    const token = readFileSync(file, 'utf8').trim();
    if (API_TOKEN_PATTERN.test(token)) return token;
    if (attempt > 50) {
      throw new Error(`${file} does not hold an API token; delete it and restart the node to get a new one`);
    }
    // The other process created the file but has not written it yet.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}
