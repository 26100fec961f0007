import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The node's id, kept in its data directory so it survives restarts. Safe when the agent and the relay
 * start at the same moment: the file is created exclusively, and the loser reads the winner's id.
 */
export function loadOrCreateNodeId(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'node-id');
  try {
    writeFileSync(file, `${randomUUID()}\n`, { flag: 'wx', mode: 0o644 });
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
