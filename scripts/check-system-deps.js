#!/usr/bin/env node
'use strict';
// Run as `pretest`: the e2e suites need redis-server, ffmpeg and ffprobe on PATH. Installs them with
// apt-get when running as root on Debian/Ubuntu; otherwise prints the command to run and fails.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

// rootOnly: the network-namespace suite (test/netns.e2e-spec.ts) runs only as root, and skips otherwise.
const REQUIRED = [
  { program: 'redis-server', pkg: 'redis-server' },
  { program: 'ffmpeg', pkg: 'ffmpeg' },
  { program: 'ffprobe', pkg: 'ffmpeg' },
  { program: 'chromium', pkg: 'chromium' },
  { program: 'pg_ctlcluster', pkg: 'postgresql' },
  { program: 'ip', pkg: 'iproute2', rootOnly: true },
  { program: 'tc', pkg: 'iproute2', rootOnly: true },
  { program: 'iptables', pkg: 'iptables', rootOnly: true },
].filter((r) => !r.rootOnly || isRoot);

/** The repository and replica suites need PostgreSQL on 127.0.0.1:5432; start the local cluster if it is down. */
function ensurePostgres() {
  const ready = () => spawnSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']).status === 0;
  if (!onPath('pg_isready') || ready()) return;
  const versions = fs.existsSync('/etc/postgresql') ? fs.readdirSync('/etc/postgresql') : [];
  if (versions.length === 0) return;
  console.error(`check-system-deps: starting PostgreSQL ${versions[0]}`);
  spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', versions[0], 'main', 'start'], {
    stdio: 'inherit',
  });
  for (let i = 0; i < 30 && !ready(); i++) spawnSync('sleep', ['1']);
  if (!ready())
    console.error(
      'check-system-deps: PostgreSQL is not answering on 127.0.0.1:5432; the PostgreSQL suites will fail',
    );
}

function onPath(program) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, program), fs.constants.X_OK);
      return true;
    } catch {
      // not in this dir
    }
  }
  return false;
}

function missingPrograms() {
  return REQUIRED.filter((r) => !onPath(r.program));
}

let missing = missingPrograms();
if (missing.length === 0) {
  ensurePostgres();
  process.exit(0);
}

const packages = [...new Set(REQUIRED.map((r) => r.pkg))];
const names = missing.map((r) => r.program).join(', ');
const command = `apt-get update && apt-get install -y ${packages.join(' ')}`;
if (isRoot && onPath('apt-get')) {
  console.error(`check-system-deps: missing ${names}; running: ${command}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  const install =
    update.status === 0
      ? spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
          stdio: 'inherit',
          env,
        })
      : update;
  missing = missingPrograms();
  if (install.status === 0 && missing.length === 0) {
    console.error('check-system-deps: installed.');
    ensurePostgres();
    process.exit(0);
  }
  console.error(
    `check-system-deps: the installation failed; still missing: ${missing.map((r) => r.program).join(', ')}`,
  );
  process.exit(1);
}

console.error(`check-system-deps: the tests need ${names} on PATH. Install them with:`);
console.error(`  sudo ${command}`);
process.exit(1);
