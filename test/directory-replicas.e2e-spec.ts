import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { RegisterNodeRequest } from '@astral/contracts';
import { DirectoryClient, claimingBusClient } from '@astral/transport';
import {
  ManagedProcess,
  RedisHandle,
  freePort,
  makeTempDir,
  removeTempDir,
  spawnAstral,
  startRedis,
  waitFor,
  WaitAbortedError,
  registerNodeRequest,
} from '@astral/testing';
import {
  DEFAULT_PG_ADMIN_URL,
  ScratchDatabase,
  connectSql,
  createScratchDatabase,
} from '../apps/directory/src/database/pg-admin';

const PG_ADMIN_URL = process.env.ASTRAL_TEST_PG_URL ?? DEFAULT_PG_ADMIN_URL;

const NODES = 20;
const PER_NODE = 100;

/**
 * Two directory replicas on one PostgreSQL database and one Redis: Redis pub/sub gives every request
 * to both. 20 fake nodes send 2,000 registrations and 2,000 heartbeats over the real transport while
 * one replica is SIGKILLed halfway; nothing may be lost or applied twice.
 */
describe('directory replicas on one PostgreSQL and one Redis', () => {
  const logDir = makeTempDir('astral-dir-replicas-');
  let scratch: ScratchDatabase | undefined;
  let dbUrl = '';
  let redis: RedisHandle | undefined;
  let proxy: ClientProxy | undefined;
  let db: DataSource | undefined;
  const replicas: ManagedProcess[] = [];

  const startReplica = async (name: string): Promise<{ proc: ManagedProcess; url: string }> => {
    const port = await freePort();
    const proc = spawnAstral(
      name,
      [
        'directory',
        '--port',
        String(port),
        '--database-url',
        dbUrl,
        '--redis',
        redis!.url,
        '--log-level',
        'warn',
        '--heartbeat-ms',
        '60000',
      ],
      { logFile: join(logDir, `${name}.log`) },
    );
    replicas.push(proc);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        if (!proc.running) throw new WaitAbortedError(`${name} exited: ${proc.readLog(4000)}`);
        return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `${name} at ${url}/readyz` },
    );
    return { proc, url };
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    scratch = await createScratchDatabase('astral_dir_replicas', PG_ADMIN_URL);
    dbUrl = scratch.url;
    const migrate = spawnAstral('migrate', ['directory', 'migrate', '--database-url', dbUrl], {
      logFile: join(logDir, 'migrate.log'),
    });
    const exit = await migrate.exited;
    if (exit.code !== 0) throw new Error(`astral directory migrate failed: ${migrate.readLog()}`);
    redis = await startRedis();
    db = await connectSql(dbUrl);
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await Promise.all(replicas.map((r) => r.stop('SIGTERM', 5000)));
    await db?.destroy().catch(() => undefined);
    await redis?.stop();
    await scratch?.drop();
    removeTempDir(logDir);
  }, 60_000);

  it('applies every registration exactly once when a replica is killed halfway', async () => {
    const a = await startReplica('directory-a');
    const b = await startReplica('directory-b');
    proxy = claimingBusClient({ url: redis!.url });
    await proxy.connect();
    const sut = new DirectoryClient(proxy, 15_000);

    const fleet: RegisterNodeRequest[] = Array.from({ length: NODES }, (_, i) =>
      registerNodeRequest({ host: `10.9.0.${i + 1}` }),
    );
    let done = 0;
    let killedAt = -1;
    const killHalfway = (): void => {
      if (++done === (NODES * PER_NODE) / 2) {
        killedAt = done;
        a.proc.kill('SIGKILL');
      }
    };
    const started = Date.now();
    const mismatches: string[] = [];
    await Promise.all(
      fleet.map(async (node) => {
        for (let i = 0; i < PER_NODE; i++) {
          const [reply] = await Promise.all([
            sut.register(node),
            sut.heartbeat({ nodeId: node.nodeId, childCount: i }),
          ]);
          if (reply.node.nodeId !== node.nodeId || reply.node.host !== node.host)
            mismatches.push(JSON.stringify(reply.node));
          killHalfway();
        }
      }),
    );
    const elapsedMs = Date.now() - started;
    expect(killedAt).toBe((NODES * PER_NODE) / 2);
    expect(mismatches).toEqual([]);
    expect((await a.proc.exited).signal).toBe('SIGKILL');
    expect(b.proc.running).toBe(true);

    // Every node once, every registration counted once: 100 per node, 2,000 in all.
    const rows = await db!.query<{ node_id: string; registrations: number; n: string }[]>(
      'SELECT node_id, registrations, COUNT(*) OVER (PARTITION BY node_id) AS n FROM nodes',
    );
    expect(rows).toHaveLength(NODES);
    expect(rows.map((r) => r.node_id).sort()).toEqual(fleet.map((n) => n.nodeId).sort());
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    expect(Object.fromEntries(rows.map((r) => [r.node_id, r.registrations]))).toEqual(
      Object.fromEntries(fleet.map((n) => [n.nodeId, PER_NODE])),
    );
    const ledger = await db!.query<{ n: string }[]>(
      "SELECT COUNT(*) AS n FROM processed_requests WHERE pattern = 'directory.nodes.register'",
    );
    expect(Number(ledger[0].n)).toBe(NODES * PER_NODE);
    // Heartbeats are events: every replica applies them (last-seen, member count), idempotently.
    const last = await waitFor(
      async () => {
        const r = await db!.query<{ n: string }[]>('SELECT COUNT(*) AS n FROM nodes WHERE child_count = $1', [
          PER_NODE - 1,
        ]);
        return Number(r[0].n) === NODES ? true : undefined;
      },
      { timeoutMs: 5000, what: 'the last heartbeat of every node' },
    ).catch(() => false);
    expect(last).toBe(true);

    // Requests answered by both replicas agree: one stream per CreateStream, the id every reply gave.
    const c = await startReplica('directory-c');
    const streams = await Promise.all(
      fleet.map((n, i) => sut.createStream({ sourceNodeId: n.nodeId, title: `show ${i}` })),
    );
    const ids = (await db!.query<{ stream_id: string }[]>('SELECT stream_id FROM streams')).map(
      (r) => r.stream_id,
    );
    expect(ids.sort()).toEqual(streams.map((s) => s.streamId).sort());
    const removed = await Promise.all(fleet.slice(0, 5).map((n) => sut.unregister({ nodeId: n.nodeId })));
    expect(removed).toEqual(Array(5).fill({ removed: true }));
    expect((await sut.listNodes()).length).toBe(NODES - 5);

    // Both survivors report the same network-wide gauges.
    for (const url of [b.url, c.url]) {
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(text).toMatch(new RegExp(`^astral_directory_nodes ${NODES - 5}$`, 'm'));
    }
    process.stdout.write(`replicas: ${NODES * PER_NODE} registrations + heartbeats in ${elapsedMs} ms\n`);
  }, 120_000);
});
