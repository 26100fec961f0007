import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_TOKEN_PATTERN, apiTokenPath, loadOrCreateApiToken, readApiToken } from './api-token';

describe(loadOrCreateApiToken.name, () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'astral-token-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a random token readable by its owner only, and keeps it', () => {
    const sut = loadOrCreateApiToken(dir);
    expect(sut).toMatch(API_TOKEN_PATTERN);
    expect(statSync(apiTokenPath(dir)).mode & 0o777).toBe(0o600);
    expect(loadOrCreateApiToken(dir)).toBe(sut);
    expect(readApiToken(dir)).toBe(sut);
    expect(loadOrCreateApiToken(mkdtempSync(join(tmpdir(), 'astral-token-')))).not.toBe(sut);
  });

  it('reads the token another process wrote first', () => {
    const theirs = 'a'.repeat(43);
    writeFileSync(apiTokenPath(dir), `${theirs}\n`, { mode: 0o600 });
    expect(loadOrCreateApiToken(dir)).toBe(theirs);
    expect(readFileSync(apiTokenPath(dir), 'utf8').trim()).toBe(theirs);
  });

  it('reads nothing where no node has started, and refuses a file that holds no token', () => {
    expect(readApiToken(dir)).toBeUndefined();
    writeFileSync(apiTokenPath(dir), 'short\n');
    expect(() => readApiToken(dir)).toThrow(/does not hold an API token/);
  });
});
