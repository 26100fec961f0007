/**
 * What the container suite's globalSetup, globalTeardown and specs share: the repository paths, the
 * image names, and the environment variables that carry the run's state from globalSetup to the specs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
export const ASTRAL_IMAGE = `localhost/astral:${VERSION}`;
export const REDIS_IMAGE = 'localhost/astral-redis:7';
export const BASE_IMAGE = 'localhost/node:20-bookworm-slim';

/** Set by globalSetup: every container and network of this run is named `${RUN_PREFIX}-…`. */
export const RUN_PREFIX_ENV = 'ASTRAL_CONTAINERS_RUN';
/** Set by globalSetup: the pid of the `podman system service` it started, and its state directory. */
export const SERVICE_PID_ENV = 'ASTRAL_PODMAN_SERVICE_PID';
export const STATE_DIR_ENV = 'ASTRAL_CONTAINERS_STATE_DIR';

export function podman(args: string[], timeoutMs = 60_000): string {
  return execFileSync('podman', args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function imageExists(ref: string): boolean {
  try {
    podman(['image', 'exists', ref], 300_000); // slow only under heavy load, and a false 'missing' would rebuild
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes every container, pod, network, volume and secret whose name starts with `prefix` (podman CLI, not the API
 * socket, so it works after the service is gone). Returns what it removed.
 */
export function removeByPrefix(prefix: string): string[] {
  const removed: string[] = [];
  const names = (args: string[]): string[] =>
    podman(args)
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s.startsWith(prefix));
  for (const c of names(['ps', '-a', '--format', '{{.Names}}'])) {
    podman(['rm', '-f', '-v', '-t', '0', c]);
    removed.push(`container ${c}`);
  }
  for (const p of names(['pod', 'ps', '--format', '{{.Name}}'])) {
    podman(['pod', 'rm', '-f', p]);
    removed.push(`pod ${p}`);
  }
  for (const n of names(['network', 'ls', '--format', '{{.Name}}'])) {
    podman(['network', 'rm', '-f', n]);
    removed.push(`network ${n}`);
  }
  for (const v of names(['volume', 'ls', '--format', '{{.Name}}'])) {
    podman(['volume', 'rm', '-f', v]);
    removed.push(`volume ${v}`);
  }
  for (const x of names(['secret', 'ls', '--format', '{{.Name}}'])) {
    podman(['secret', 'rm', x]);
    removed.push(`secret ${x}`);
  }
  return removed;
}
