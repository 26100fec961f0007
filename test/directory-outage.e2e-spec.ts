import { execFile } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { AstralErrorBody, NodeInfo, RegisterNodeRequest, StreamPage } from '@astral/contracts';
import { DirectoryClient, claimingBusClient } from '@astral/transport';
import {
  ManagedProcess,
  RedisHandle,
  freePort,
  httpJson,
  makeTempDir,
  removeTempDir,
  repoRoot,
  sleep,
  spawnAstral,
  spawnManaged,
  startRedis,
  waitFor,
  WaitAbortedError,
  registerNodeRequest,
  newOperatorToken,
} from '@astral/testing';
import { expiryAfterMs } from '../apps/directory/src/directory.config';

const run = promisify(execFile);
const HEARTBEAT_MS = 500;
const EXPIRY_MS = expiryAfterMs({ heartbeatIntervalMs: HEARTBEAT_MS });
/** Enough nodes that, without the gate, the first sweep after the outage would catch some of them. */
const NODES = 8;

/** A database the test can take away and give back. */
interface Backend {
  /** `astral directory` flags that point the directory at it. */
  flags: string[];
  /** The readiness check expected to be down while it is away. */
  downCheck: string;
  /** The one "expiry suspended" log line. */
  suspendedLine: RegExp;
  /** Writes fail at once (not after a busy timeout that blocks the directory's event loop). */
  failsFast: boolean;
  breakIt(): Promise<void>;
  restore(): Promise<void>;
  destroy(): Promise<void>;
}

/** A private PostgreSQL cluster, run as the postgres user (initdb refuses root), on a free port. */
async function privatePostgres(): Promise<Backend> {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))[0]
    : undefined;
  if (!version)
    throw new Error(`no PostgreSQL binaries under ${root}/*/bin; install them: apt-get install postgresql`);
  const bin = (name: string): string => join(root, version, 'bin', name);
  const asPostgres = (program: string, args: string[]): string[] => [
    '--reuid=postgres',
    '--regid=postgres',
    '--init-groups',
    program,
    ...args,
  ];
  const dir = makeTempDir('astral-outage-pg-');
  const data = join(dir, 'data');
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  chownSync(dir, Number(uid), Number(gid));
  const port = await freePort();
  let server: ManagedProcess | undefined;
  const pgCtlStop = (): Promise<unknown> =>
    run('setpriv', asPostgres(bin('pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w']));
  const start = async (): Promise<void> => {
    const args = [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
    ];
    const p = spawnManaged('postgres', asPostgres(bin('postgres'), args), {
      command: 'setpriv',
      logFile: join(dir, 'postgres.log'),
    });
    server = p;
    await waitFor(
      async () => {
        if (!p.running) throw new WaitAbortedError(`postgres exited: ${p.readLog(2000)}`);
        await run(bin('pg_isready'), ['-h', '127.0.0.1', '-p', String(port)]);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `the private PostgreSQL on port ${port}` },
    );
  };
  try {
    await run(
      'setpriv',
      asPostgres(bin('initdb'), [
        '-D',
        data,
        '-A',
        'trust',
        '-U',
        'postgres',
        '-N',
        '-E',
        'UTF8',
        '--locale=C',
      ]),
    );
    await start();
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const migrate = spawnAstral('migrate', ['directory', 'migrate', '--database-url', url], {
      logFile: join(dir, 'migrate.log'),
    });
    if ((await migrate.exited).code !== 0)
      throw new Error(`astral directory migrate failed: ${migrate.readLog()}`);
    return {
      flags: ['--database-url', url],
      downCheck: 'database',
      suspendedLine: /^database unreachable: .+; expiry suspended$/,
      failsFast: true,
      breakIt: async () => {
        await pgCtlStop();
        await server?.exited;
      },
      restore: start,
      destroy: async () => {
        if (server?.running) await pgCtlStop().catch(() => undefined);
        await server?.stop('SIGKILL', 5000);
        removeTempDir(dir);
      },
    };
  } catch (err) {
    await server?.stop('SIGKILL', 5000);
    removeTempDir(dir);
    throw err;
  }
}

/**
 * SQLite with its file locked by another process: BEGIN EXCLUSIVE (in WAL mode, the write lock) in
 * a child holding it. Reads still work, as they would for a real second writer that hangs; every write
 * of the directory waits its busy timeout (5 s) and fails with "database is locked". Making the file
 * unwritable would not do: the test runs as root, which file modes do not stop.
 */
function lockedSqlite(): Backend {
  const dir = makeTempDir('astral-outage-sqlite-');
  const file = join(dir, 'directory.sqlite');
  const locker = [
    "const Database = require('better-sqlite3');",
    'const db = new Database(process.argv[1], { timeout: 10000 });',
    "db.exec('BEGIN EXCLUSIVE');",
    "console.log('locked');",
    'setInterval(() => undefined, 1000);',
  ].join('\n');
  let holder: ManagedProcess | undefined;
  return {
    flags: ['--data-dir', dir],
    downCheck: 'database-writes',
    // better-sqlite3 waits for a lock synchronously (busy timeout), so the whole directory is held up: the
    // first probe to fail may be the database write or the Redis PING that could not be answered meanwhile.
    suspendedLine:
      /^(database unreachable: .*database is locked|Redis unreachable: PING: no answer within \d+ ms); expiry suspended$/,
    failsFast: false,
    breakIt: async () => {
      const p = spawnManaged('sqlite-lock', ['-e', locker, file], {
        cwd: repoRoot(),
        logFile: join(dir, 'lock.log'),
      });
      holder = p;
      await waitFor(
        () => {
          if (!p.running) throw new WaitAbortedError(`the lock holder exited: ${p.readLog()}`);
          return p.readLog().includes('locked');
        },
        { timeoutMs: 10_000, intervalMs: 20, what: 'the SQLite lock holder' },
      );
    },
    // The kernel releases the lock with the process.
    restore: async () => void (await holder?.stop('SIGKILL')),
    destroy: async () => {
      await holder?.stop('SIGKILL');
      removeTempDir(dir);
    },
  };
}

interface LogLine {
  msg?: string;
  nodeIds?: string[];
}

function readLogLines(p: ManagedProcess): LogLine[] {
  const file = p.logFile;
  if (!file || !existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

describe.each([
  ['PostgreSQL stopped (pg_ctl stop -m immediate)', privatePostgres],
  ['SQLite file locked by another process', () => Promise.resolve(lockedSqlite())],
])('directory through a database outage: %s', (_name, makeBackend: () => Promise<Backend>) => {
  let backend: Backend | undefined;
  let redis: RedisHandle | undefined;
  let directory: ManagedProcess | undefined;
  let proxy: ClientProxy | undefined;
  let logDir = '';
  const timers: NodeJS.Timeout[] = [];

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    await proxy?.close();
    await directory?.stop('SIGTERM', 10_000);
    await redis?.stop();
    await backend?.destroy();
    if (logDir) removeTempDir(logDir);
  }, 60_000);

  it('ends no stream and lists every node after 3 expiry windows; a node that stops heartbeating afterwards expires', async () => {
    logDir = makeTempDir('astral-outage-logs-');
    backend = await makeBackend();
    redis = await startRedis();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const args = [
      'directory',
      '--port',
      String(port),
      '--redis',
      redis.url,
      '--heartbeat-ms',
      String(HEARTBEAT_MS),
    ];
    const operatorToken = newOperatorToken();
    const dir = spawnAstral('directory', [...args, '--log-level', 'info', ...backend.flags], {
      env: { ...process.env, ASTRAL_OPERATOR_TOKEN: operatorToken },
      logFile: join(logDir, 'directory.log'),
    });
    directory = dir;
    const alive = (): void => {
      if (!dir.running)
        throw new WaitAbortedError(
          `the directory exited ${JSON.stringify(dir.exitStatus)}: ${dir.readLog(4000)}`,
        );
    };
    const ready = async (): Promise<boolean> => {
      alive();
      return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
    };
    await waitFor(ready, { timeoutMs: 60_000, intervalMs: 200, what: `the directory at ${url}/readyz` });

    proxy = claimingBusClient({ url: redis.url });
    await proxy.connect();
    const sut = new DirectoryClient(proxy, 10_000);
    const fleet: RegisterNodeRequest[] = Array.from({ length: NODES }, (_, i) =>
      registerNodeRequest({ host: `10.7.0.${i + 1}` }),
    );
    const streams: string[] = [];
    for (const node of fleet) {
      await sut.register(node);
      const s = await sut.createStream({ sourceNodeId: node.nodeId, title: `outage ${node.host}` });
      await sut.announceStream({ streamId: s.streamId, nodeId: node.nodeId });
      streams.push(s.streamId);
    }
    // Heartbeats over the real pattern, as agents send them (fire-and-forget events), phases spread out.
    const beating = new Map<string, NodeJS.Timeout>();
    for (const [i, node] of fleet.entries()) {
      await sleep(HEARTBEAT_MS / NODES);
      const beat = (): void => void sut.heartbeat({ nodeId: node.nodeId }).catch(() => undefined);
      beat();
      const t = setInterval(beat, HEARTBEAT_MS);
      timers.push(t);
      beating.set(fleet[i].nodeId, t);
    }
    const listed = async (): Promise<string[]> =>
      (await httpJson<NodeInfo[]>('GET', `${url}/api/nodes`)).map((n) => n.nodeId).sort();
    const live = async (): Promise<string[]> =>
      (await httpJson<StreamPage>('GET', `${url}/api/streams?status=live&pageSize=100`)).items
        .map((s) => s.streamId)
        .sort();
    const everyone = fleet.map((n) => n.nodeId).sort();
    // Steady state, past the directory's own start-up grace.
    await sleep(2 * EXPIRY_MS);
    expect(await listed()).toEqual(everyone);
    expect(await live()).toEqual([...streams].sort());

    // The outage: 3 expiry windows with every node heartbeating into a directory that cannot record it.
    await backend.breakIt();
    const outageEnds = Date.now() + 3 * EXPIRY_MS;
    const readiness: (number | 'no answer')[] = [];
    await sleep(1000);
    if (backend.failsFast) {
      // A heartbeat or registration the database cannot record gets a clear 503, over HTTP and Redis.
      const hb = await fetch(`${url}/api/nodes/${fleet[0].nodeId}/heartbeat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operatorToken}` },
        signal: AbortSignal.timeout(5000),
      });
      expect(hb.status).toBe(503);
      expect(((await hb.json()) as AstralErrorBody).message).toMatch(
        /could not record the heartbeat .* database is unreachable/,
      );
      const refused = await sut.register(fleet[0]).then(
        () => undefined,
        (err: unknown) => err as { status?: number; message?: string },
      );
      expect(refused?.status).toBe(503);
      expect(refused?.message).toMatch(
        /could not record the registration of node .* database is unreachable/,
      );
    }
    while (Date.now() < outageEnds - 2500) {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      if (!res) readiness.push('no answer');
      else {
        readiness.push(res.status);
        const body = (await res.json()) as { error?: Record<string, { status: string }> };
        if (res.status === 503) expect(body.error?.[backend.downCheck]?.status).toBe('down');
      }
      await sleep(300);
    }
    await sleep(Math.max(0, outageEnds - Date.now()));
    alive();
    await backend.restore();

    // Back: ready again, expiry resumes one window after the last failure, and nobody was expired.
    await waitFor(ready, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'the directory to be ready after the outage',
    });
    await waitFor(() => readLogLines(dir).some((l) => l.msg?.endsWith('; expiry resumed')), {
      timeoutMs: 30_000,
      what: 'the "expiry resumed" log line',
    });
    await sleep(3 * HEARTBEAT_MS); // a few sweeps with expiry running
    expect(await listed()).toEqual(everyone);
    expect(await live()).toEqual([...streams].sort());
    // While it was away, readiness never said ready, and said "down" for the database when it answered.
    expect(readiness.length).toBeGreaterThan(0);
    expect(readiness).not.toContain(200);
    if (backend.downCheck === 'database') expect(readiness).toContain(503);
    const lines = readLogLines(dir);
    const suspended = lines.filter((l) => l.msg?.endsWith('; expiry suspended'));
    expect(suspended).toHaveLength(1);
    expect(suspended[0].msg).toMatch(backend.suspendedLine);
    expect(lines.filter((l) => l.msg?.endsWith('; expiry resumed'))).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'nodes expired after missing heartbeats')).toEqual([]);

    // The legitimate twin: with the database back, a node that really goes silent expires, and its stream ends.
    const gone = fleet[NODES - 1].nodeId;
    clearInterval(beating.get(gone));
    const silentFrom = Date.now();
    await waitFor(async () => !(await listed()).includes(gone), {
      timeoutMs: EXPIRY_MS + 3 * HEARTBEAT_MS + 3000,
      intervalMs: 100,
      what: `node ${gone} to expire`,
    });
    expect(Date.now() - silentFrom).toBeGreaterThanOrEqual(EXPIRY_MS - HEARTBEAT_MS);
    expect((await sut.getStream({ streamId: streams[NODES - 1] })).status).toBe('ended');
    expect(await listed()).toEqual(everyone.filter((id) => id !== gone));
    expect(await live()).toEqual(streams.slice(0, NODES - 1).sort());
    expect(
      readLogLines(dir)
        .filter((l) => l.msg === 'nodes expired after missing heartbeats')
        .map((l) => l.nodeIds),
    ).toEqual([[gone]]);
  }, 180_000);
});
