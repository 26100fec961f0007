/**
 * globalSetup of the `containers` jest project (`npm run test:containers`):
 * 1. the images exist, built offline with the repository's scripts when missing (never pulled):
 *    the base image (scripts/build-base-image.sh), localhost/astral:<version> (docker/build-image.sh;
 *    ASTRAL_IMAGE_REBUILD=1 rebuilds it) and localhost/astral-redis:7 (docker/build-redis-image.sh);
 * 2. podman's Docker-compatible API runs on a private socket (`podman system service --time=0`);
 * 3. testcontainers is pointed at it: DOCKER_HOST, TESTCONTAINERS_RYUK_DISABLED=true,
 *    TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1, and CONTAINERS_CONF (runc, ulimits; ../shared/ENVIRONMENT.md).
 * globalTeardown stops the service and removes anything of this run left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ASTRAL_IMAGE,
  BASE_IMAGE,
  REDIS_IMAGE,
  ROOT,
  RUN_PREFIX_ENV,
  SERVICE_PID_ENV,
  STATE_DIR_ENV,
  imageExists,
  podman,
} from './podman-env';

function run(script: string, args: string[] = []): void {
  const started = Date.now();
  process.stderr.write(`containers setup: ${script} ${args.join(' ')}\n`);
  const r = spawnSync(join(ROOT, script), args, {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: process.env,
  });
  if (r.status !== 0) throw new Error(`containers setup: ${script} failed (exit ${r.status ?? r.signal})`);
  process.stderr.write(`containers setup: ${script} took ${Math.round((Date.now() - started) / 1000)} s\n`);
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export default async function globalSetup(): Promise<void> {
  if (spawnSync('podman', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      'containers setup: podman is missing (Debian: apt-get install -y podman buildah runc slirp4netns uidmap fuse-overlayfs debootstrap)',
    );
  }
  process.env.CONTAINERS_CONF ??= join(ROOT, '.astral', 'containers.conf');
  // build-base-image.sh also writes CONTAINERS_CONF when it is missing; it is a no-op when the image exists.
  if (!existsSync(process.env.CONTAINERS_CONF) || !imageExists(BASE_IMAGE))
    run('scripts/build-base-image.sh');
  if (!imageExists(REDIS_IMAGE)) run('docker/build-redis-image.sh', [REDIS_IMAGE]);
  if (!imageExists(ASTRAL_IMAGE) || process.env.ASTRAL_IMAGE_REBUILD === '1')
    run('docker/build-image.sh', ['--tag', ASTRAL_IMAGE]);
  const revision = podman([
    'image',
    'inspect',
    ASTRAL_IMAGE,
    '--format',
    '{{index .Labels "org.opencontainers.image.revision"}}',
  ]).trim();
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).stdout?.trim();
  if (head && revision !== head) {
    process.stderr.write(
      `containers setup: ${ASTRAL_IMAGE} was built from ${revision}, HEAD is ${head}; ASTRAL_IMAGE_REBUILD=1 rebuilds it\n`,
    );
  }

  const state = mkdtempSync(join(tmpdir(), 'astral-containers-'));
  const socket = join(state, 'podman.sock');
  const log = openSync(join(state, 'podman-service.log'), 'a');
  const service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  service.unref();
  const deadline = Date.now() + 30_000;
  while (!(await ping(socket))) {
    if (service.exitCode !== null || Date.now() > deadline) {
      try {
        process.kill(service.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      throw new Error(
        `containers setup: podman system service did not answer on ${socket} (see ${state}/podman-service.log)`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.env[SERVICE_PID_ENV] = String(service.pid);
  process.env[STATE_DIR_ENV] = state;
  process.env[RUN_PREFIX_ENV] = `astral-ct-${process.pid}-${Date.now().toString(36)}`;
  process.env.DOCKER_HOST = `unix://${socket}`;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
  process.stderr.write(
    `containers setup: podman API on ${process.env.DOCKER_HOST} (pid ${service.pid}); images ${ASTRAL_IMAGE}, ${REDIS_IMAGE}\n`,
  );
}
