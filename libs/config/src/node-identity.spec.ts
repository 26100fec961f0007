import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateNodeId, nodeIdFor } from './node-identity';

const USER = '3d9e6e1b-4f50-4172-9dce-3f4a5b6c7d8e';

describe('nodeIdFor: a node on a per-node ACL bus is its Redis user', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'astral-id-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("takes the Redis user's id in an empty data directory, and keeps it", () => {
    expect(nodeIdFor(dir, `redis://${USER}:secretsecretsecret@127.0.0.1:6379`)).toBe(USER);
    expect(nodeIdFor(dir, `redis://${USER}:other-password-now@127.0.0.1:6379`)).toBe(USER);
  });

  it('refuses a data directory that holds another id, saying what to do', () => {
    const own = loadOrCreateNodeId(dir);
    expect(() => nodeIdFor(dir, `redis://${USER}:pw@127.0.0.1:6379`)).toThrow(
      new RegExp(`holds node id ${own}.*astral redis grant --node ${own}`),
    );
  });

  it('leaves the id to the data directory for role users and URLs without a user', () => {
    const own = loadOrCreateNodeId(dir);
    expect(nodeIdFor(dir, 'redis://seeder:pw@127.0.0.1:6379')).toBe(own);
    expect(nodeIdFor(dir, 'redis://127.0.0.1:6379')).toBe(own);
  });
});
