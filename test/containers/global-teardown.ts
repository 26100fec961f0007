/**
 * globalTeardown of the `containers` jest project: removes whatever containers, pods and networks of
 * this run the specs left (they clean up themselves; this covers a crash), then stops the podman API
 * service that globalSetup started and deletes its socket directory.
 */
import { rmSync } from 'node:fs';
// A relative path: jest runs globalSetup/globalTeardown outside its module registry, so moduleNameMapper
// (the @astral/* names) does not apply here.
import { processAlive } from '../../libs/testing/src/process-alive';
import { RUN_PREFIX_ENV, SERVICE_PID_ENV, STATE_DIR_ENV, removeByPrefix } from './podman-env';

export default async function globalTeardown(): Promise<void> {
  const prefix = process.env[RUN_PREFIX_ENV];
  if (prefix) {
    try {
      const left = removeByPrefix(prefix);
      if (left.length > 0)
        process.stderr.write(`containers teardown: removed leftovers: ${left.join(', ')}\n`);
    } catch (err) {
      process.stderr.write(`containers teardown: could not list leftovers: ${(err as Error).message}\n`);
    }
  }
  const pid = Number(process.env[SERVICE_PID_ENV]);
  if (pid > 0 && processAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  const state = process.env[STATE_DIR_ENV];
  if (state) rmSync(state, { recursive: true, force: true });
}
