import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { DirectoryPatterns, RegisterNodeReply, RegisterNodeRequest } from '@astral/contracts';
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
  RetryingBusRequester,
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
 * Directory replicas on one PostgreSQL database and one Redis share the work (a Redis stream with a
 * consumer group, docs/DIRECTORY.md). 20 fake nodes send 2,000 registrations and 2,000 heartbeats over
 * the real transport, three times: with both replicas up (each handles 30-70 %), with one SIGKILLed
 * halfway, and with Redis restarted halfway; nothing may be lost or applied twice.
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

  /** Each replica's share of the bus work, from its /metrics (queued + claimed). */
  const handled = async (url: string): Promise<number> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    let n = 0;
    for (const how of ['queued', 'claimed'])
      n += Number(
        new RegExp(`^astral_directory_bus_messages_total\\{how="${how}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0,
      );
    return n;
  };

  /** The nodes table: every node once, with its registration count and last heartbeat's child count. */
  const tableOf = async () => {
    const rows = await db!.query<
      { node_id: string; registrations: number; child_count: number; n: string }[]
    >('SELECT node_id, registrations, child_count, COUNT(*) OVER (PARTITION BY node_id) AS n FROM nodes');
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    return rows;
  };

  const expectExact = async (fleet: RegisterNodeRequest[], registrations: number, lastChildCount: number) => {
    const rows = await tableOf();
    expect(rows.map((r) => r.node_id).sort()).toEqual(fleet.map((n) => n.nodeId).sort());
    expect(Object.fromEntries(rows.map((r) => [r.node_id, r.registrations]))).toEqual(
      Object.fromEntries(fleet.map((n) => [n.nodeId, registrations])),
    );
    // The last heartbeat of every node was applied (heartbeats are events: applied by one replica, idempotently).
    const last = await waitFor(
      async () => {
        const r = await db!.query<{ n: string }[]>('SELECT COUNT(*) AS n FROM nodes WHERE child_count = $1', [
          lastChildCount,
        ]);
        return Number(r[0].n) === fleet.length ? true : undefined;
      },
      { timeoutMs: 10_000, what: 'the last heartbeat of every node' },
    ).catch(() => false);
    expect(last).toBe(true);
  };

  const fleet: RegisterNodeRequest[] = Array.from({ length: NODES }, (_, i) =>
    registerNodeRequest({ host: `10.9.0.${i + 1}` }),
  );
  let a: { proc: ManagedProcess; url: string };
  let b: { proc: ManagedProcess; url: string };
  let sut: DirectoryClient;

  /** PER_NODE registrations and heartbeats from each node, `onEach` after every pair. */
  const burst = async (offset: number, onEach: () => void = () => undefined): Promise<string[]> => {
    const mismatches: string[] = [];
    await Promise.all(
      fleet.map(async (node) => {
        for (let i = 0; i < PER_NODE; i++) {
          const [reply] = await Promise.all([
            sut.register(node),
            sut.heartbeat({ nodeId: node.nodeId, childCount: offset + i }),
          ]);
          if (reply.node.nodeId !== node.nodeId || reply.node.host !== node.host)
            mismatches.push(JSON.stringify(reply.node));
          onEach();
        }
      }),
    );
    return mismatches;
  };

  it('shares 2,000 registrations and heartbeats between two replicas, each applied once', async () => {
    a = await startReplica('directory-a');
    b = await startReplica('directory-b');
    proxy = claimingBusClient({ url: redis!.url });
    await proxy.connect();
    sut = new DirectoryClient(proxy, 15_000);
    const started = Date.now();
    expect(await burst(0)).toEqual([]);
    const elapsedMs = Date.now() - started;
    await expectExact(fleet, PER_NODE, PER_NODE - 1);
    const [ha, hb] = [await handled(a.url), await handled(b.url)];
    // 4,000 messages (2,000 requests, 2,000 heartbeats), each handled by exactly one replica.
    expect(ha + hb).toBe(2 * NODES * PER_NODE);
    for (const share of [ha / (ha + hb), hb / (ha + hb)]) {
      expect(share).toBeGreaterThanOrEqual(0.3);
      expect(share).toBeLessThanOrEqual(0.7);
    }
    const ledger = await db!.query<{ n: string }[]>(
      "SELECT COUNT(*) AS n FROM processed_requests WHERE pattern = 'directory.nodes.register'",
    );
    expect(Number(ledger[0].n)).toBe(NODES * PER_NODE);
    process.stdout.write(
      `replicas: ${NODES * PER_NODE} registrations + heartbeats in ${elapsedMs} ms; shares ${ha}/${hb}\n`,
    );
  }, 120_000);

  it('loses nothing and applies nothing twice when a replica is SIGKILLed halfway through a burst', async () => {
    let done = 0;
    let killedAt = -1;
    const claimedBefore = await handled(b.url);
    const mismatches = await burst(PER_NODE, () => {
      if (++done === (NODES * PER_NODE) / 2) {
        killedAt = done;
        a.proc.kill('SIGKILL');
      }
    });
    expect(killedAt).toBe((NODES * PER_NODE) / 2);
    expect(mismatches).toEqual([]);
    expect((await a.proc.exited).signal).toBe('SIGKILL');
    expect(b.proc.running).toBe(true);
    await expectExact(fleet, 2 * PER_NODE, 2 * PER_NODE - 1);
    const text = await (await fetch(`${b.url}/metrics`)).text();
    const claimed = Number(
      /^astral_directory_bus_messages_total\{how="claimed"\} (\d+)/m.exec(text)?.[1] ?? 0,
    );
    process.stdout.write(
      `replicas: survivor handled ${(await handled(b.url)) - claimedBefore}, took over ${claimed}\n`,
    );
  }, 120_000);

  it('loses nothing and applies nothing twice when Redis restarts mid-burst (retries keep their id)', async () => {
    const c = await startReplica('directory-c');
    const requester = new RetryingBusRequester(redis!.url);
    try {
      await requester.listen(DirectoryPatterns.RegisterNode);
      let done = 0;
      let restarted: Promise<void> | undefined;
      await Promise.all(
        fleet.map(async (node) => {
          for (let i = 0; i < PER_NODE; i++) {
            const reply = await requester.request<RegisterNodeReply>(
              DirectoryPatterns.RegisterNode,
              node.nodeId,
              node,
            );
            expect(reply.node.nodeId).toBe(node.nodeId);
            await requester.emit(DirectoryPatterns.NodeHeartbeat, node.nodeId, {
              nodeId: node.nodeId,
              childCount: 2 * PER_NODE + i,
            });
            if (++done === (NODES * PER_NODE) / 2) restarted = redis!.restart();
          }
        }),
      );
      await restarted;
      // Sends beyond one per request: the retries of requests Redis lost in the restart.
      expect(requester.sends).toBeGreaterThanOrEqual(NODES * PER_NODE);
      await expectExact(fleet, 3 * PER_NODE, 3 * PER_NODE - 1);
      process.stdout.write(
        `replicas: ${requester.sends - NODES * PER_NODE} retries through the Redis restart\n`,
      );
    } finally {
      requester.close();
    }
    // Requests answered by both survivors agree: one stream per CreateStream, the id every reply gave.
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
    for (const url of [b.url, c.url]) {
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(text).toMatch(new RegExp(`^astral_directory_nodes ${NODES - 5}$`, 'm'));
      expect(text).toMatch(/^astral_directory_request_ledger_rows \d+$/m);
    }
  }, 180_000);
});
