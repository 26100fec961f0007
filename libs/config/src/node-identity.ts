import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The node's id, kept in its data directory so it survives restarts. Safe when the agent and the relay
 * start at the same moment: the file is created exclusively, and the loser reads the winner's id.
 */
export function loadOrCreateNodeId(dataDir: string, proposed?: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'node-id');
  try {
    writeFileSync(file, `${proposed ?? randomUUID()}\n`, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (let attempt = 0; ; attempt++) {
    const id = readFileSync(file, 'utf8').trim();
    if (UUID.test(id)) return id;
    if (attempt > 50) throw new Error(`${file} does not hold a node id (a UUID); delete it to get a new one`);
    // The other process created the file but has not written it yet.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

/**
 * The node id of a node whose Redis URL is `redisUrl`. On a bus with per-node ACL users the Redis user
 * name is the node's id (libs/transport/src/acl.ts: Redis lets a node write only the channels of its own
 * id), so a data directory without an id takes the user's, and one holding another id is refused before
 * anything connects. A URL whose user is not a node id (a role such as `seeder`, or none) leaves the
 * id to the data directory.
 */
export function nodeIdFor(dataDir: string, redisUrl: string): string {
  let user = '';
  try {
    user = decodeURIComponent(new URL(redisUrl).username).toLowerCase();
  } catch {
    // An invalid URL is refused by the config's own validation.
  }
  if (!UUID.test(user)) return loadOrCreateNodeId(dataDir);
  const id = loadOrCreateNodeId(dataDir, user);
  if (id !== user) {
    throw new Error(
      `${join(dataDir, 'node-id')} holds node id ${id}, but the Redis user is ${user}: on the bus a node acts only as its ` +
        `Redis user. Use the data directory of node ${user}, or have the operator grant a user for ${id} ` +
        `(astral redis grant --node ${id}).`,
    );
  }
  return id;
}
