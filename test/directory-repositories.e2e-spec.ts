import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { makeTempDir, registerNodeRequest, removeTempDir, spawnAstral } from '@astral/testing';
import {
  DatabaseSettings,
  createDirectoryDataSource,
  pendingMigrations,
  PendingMigrationsError,
  assertSchemaCurrent,
} from '../apps/directory/src/database/data-source';
import {
  DEFAULT_PG_ADMIN_URL,
  ScratchDatabase,
  createScratchDatabase,
} from '../apps/directory/src/database/pg-admin';
import { DirectoryTransactions } from '../apps/directory/src/database/transactions';
import { loadOrCreateDirectoryKey } from '../apps/directory/src/auth/directory-key';
import { verifySignature } from '@astral/identity';
import { DirectoryConfig } from '../apps/directory/src/directory.config';
import { DirectoryMetrics } from '../apps/directory/src/metrics/directory-metrics';
import { NodeEntity } from '../apps/directory/src/nodes/node.entity';
import { NodesService } from '../apps/directory/src/nodes/nodes.service';
import { StreamEntity } from '../apps/directory/src/streams/stream.entity';
import { StreamCarrierEntity } from '../apps/directory/src/streams/stream-carrier.entity';
import { StreamsService } from '../apps/directory/src/streams/streams.service';

const PG_ADMIN_URL = process.env.ASTRAL_TEST_PG_URL ?? DEFAULT_PG_ADMIN_URL;

/** A uniquely named database; fails (never skips) with how to start PostgreSQL when it is not reachable. */
const createTestDatabase = (prefix: string): Promise<ScratchDatabase> =>
  createScratchDatabase(prefix, PG_ADMIN_URL);

describe.each(['sqlite', 'postgres'] as const)('directory repositories on %s', (backend) => {
  let settings: DatabaseSettings;
  let dropDatabase: (() => Promise<void>) | undefined;
  let tempDir: string | undefined;
  let ds: DataSource;
  let nodes: NodesService;
  let streams: StreamsService;
  const config = Object.assign(new DirectoryConfig(), { heartbeatIntervalMs: 1000 });

  beforeAll(async () => {
    Logger.overrideLogger(false);
    if (backend === 'postgres') {
      const db = await createTestDatabase('astral_dir_repo');
      dropDatabase = () => db.drop();
      settings = { databaseUrl: db.url, dataDir: 'unused' };
    } else {
      tempDir = makeTempDir('astral-dir-repo-');
      settings = { dataDir: tempDir };
    }
    ds = createDirectoryDataSource(settings);
    await ds.initialize();
  }, 30_000);

  afterAll(async () => {
    await ds?.destroy().catch(() => undefined);
    if (dropDatabase) await dropDatabase();
    if (tempDir) removeTempDir(tempDir);
  }, 30_000);

  it('applies every migration from an empty database, once', async () => {
    expect(await pendingMigrations(ds)).toEqual([
      'Initial1700000000000',
      'SupernodeCapacity1710000000000',
      'RequestLedger1720000000000',
      'NodeKeys1730000000000',
      'CarrierReports1740000000000',
    ]);
    if (backend === 'postgres')
      await expect(assertSchemaCurrent(settings)).rejects.toBeInstanceOf(PendingMigrationsError);
    const applied = await ds.runMigrations({ transaction: 'each' });
    expect(applied.map((m) => m.name)).toHaveLength(5);
    expect(await pendingMigrations(ds)).toEqual([]);
    expect(await ds.runMigrations()).toEqual([]);
    await assertSchemaCurrent(settings);

    const transactions = new DirectoryTransactions(ds);
    nodes = new NodesService(
      ds.getRepository(NodeEntity),
      ds,
      transactions,
      config,
      new DirectoryMetrics(ds),
    );
    streams = new StreamsService(
      ds.getRepository(StreamEntity),
      ds.getRepository(StreamCarrierEntity),
      nodes,
      transactions,
      ds,
      config,
    );
  });

  const registrations = async (nodeId: string): Promise<number> =>
    (await ds.getRepository(NodeEntity).findOneByOrFail({ nodeId })).registrations;

  it('registers a node once per request key, however often the request is delivered', async () => {
    const req = registerNodeRequest({ host: '10.0.0.1' });
    const key = `redis:${randomUUID()}`;
    const replies = await Promise.all(Array.from({ length: 8 }, () => nodes.register(req, key)));
    expect(new Set(replies.map((r) => r.node.nodeId)).size).toBe(1);
    expect(await registrations(req.nodeId)).toBe(1);
    await Promise.all(
      Array.from({ length: 5 }, () => nodes.register({ ...req, host: '10.0.0.2' }, `redis:${randomUUID()}`)),
    );
    await nodes.register(req);
    expect(await registrations(req.nodeId)).toBe(7);
    const [row] = await nodes.list().then((all) => all.filter((n) => n.nodeId === req.nodeId));
    expect(row).toMatchObject({
      host: '10.0.0.1',
      supernode: false,
      maxChildren: null,
      childCount: 0,
      uploadLimitBps: null,
    });
    expect(await ds.getRepository(NodeEntity).countBy({ nodeId: req.nodeId })).toBe(1);
  });

  it('binds a node id to its first key for ever: another key is refused and changes nothing', async () => {
    const req = registerNodeRequest({ host: '10.3.0.1' });
    const impostor = { ...req, host: '10.66.6.6', publicKey: registerNodeRequest().publicKey };
    expect((await nodes.register(req)).node.publicKey).toBe(req.publicKey);
    await expect(nodes.register(impostor)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining(`node ${req.nodeId} is registered with another key`) as string,
    });
    // Racing registrations with two keys: exactly one key wins, whichever it is.
    const racer = registerNodeRequest();
    const rival = { ...racer, publicKey: registerNodeRequest().publicKey };
    const race = await Promise.allSettled([nodes.register(racer), nodes.register(rival)]);
    expect(race.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await ds.getRepository(NodeEntity).findOneByOrFail({ nodeId: req.nodeId })).toMatchObject({
      host: '10.3.0.1',
      publicKey: req.publicKey,
    });
    // The same key re-registers; the binding outlives the row, so an expired id cannot come back with another key.
    expect((await nodes.register({ ...req, host: '10.3.0.2' })).node.host).toBe('10.3.0.2');
    await nodes.unregister({ nodeId: req.nodeId });
    await expect(nodes.register(impostor)).rejects.toMatchObject({ status: 409 });
    expect(await nodes.find(req.nodeId)).toBeNull();
    expect((await nodes.register(req)).node.publicKey).toBe(req.publicKey);
  });

  it('lets a row from before keys adopt the first key it registers with', async () => {
    const legacy = registerNodeRequest({ host: '10.4.0.1' });
    await ds.getRepository(NodeEntity).insert({
      ...legacy,
      supernode: false,
      maxChildren: null,
      childCount: 0,
      registrations: 1,
      uploadLimitBps: null,
      publicKey: null,
      registeredAt: Date.now(),
      lastSeenAt: Date.now(),
    });
    expect((await nodes.list()).find((n) => n.nodeId === legacy.nodeId)?.publicKey).toBeNull();
    expect((await nodes.register(legacy)).node.publicKey).toBe(legacy.publicKey);
    expect(await nodes.boundKey(legacy.nodeId)).toBe(legacy.publicKey);
    await expect(
      nodes.register({ ...legacy, publicKey: registerNodeRequest().publicKey }),
    ).rejects.toMatchObject({ status: 409 });
  });

  it('keeps supernodes with their capacity and ranks them', async () => {
    const a = registerNodeRequest({ host: '10.1.0.5' });
    const b = registerNodeRequest({ host: '172.16.0.5' });
    const c = registerNodeRequest({ host: '10.1.0.6' });
    for (const n of [a, b, c]) await nodes.register(n);
    await nodes.promote({ nodeId: a.nodeId, maxChildren: 1 });
    await nodes.promote({ nodeId: b.nodeId, maxChildren: 3 });
    await nodes.promote({ nodeId: c.nodeId, maxChildren: 3 });
    await nodes.heartbeat({ nodeId: a.nodeId, childCount: 1 });
    await nodes.heartbeat({ nodeId: c.nodeId, childCount: 2 });
    const ranked = await nodes.supernodes({ hint: '10.1.0.9' });
    expect(ranked.map((n) => n.nodeId)).toEqual([c.nodeId, b.nodeId, a.nodeId]);
    expect(ranked[0]).toMatchObject({ supernode: true, maxChildren: 3, childCount: 2 });
    // A re-registration keeps the role.
    await nodes.register(c);
    expect((await nodes.supernodes({ nodeId: b.nodeId })).map((n) => n.nodeId)).toEqual([c.nodeId, a.nodeId]);
    expect(await nodes.demote({ nodeId: c.nodeId })).toMatchObject({
      supernode: false,
      maxChildren: null,
      childCount: 0,
    });
    await expect(nodes.promote({ nodeId: randomUUID(), maxChildren: 1 })).rejects.toMatchObject({
      status: 404,
    });
  });

  it('creates one stream per request key and searches titles with LIKE characters escaped', async () => {
    const src = registerNodeRequest();
    await nodes.register(src);
    const key = `redis:${randomUUID()}`;
    const created = await Promise.all(
      Array.from({ length: 4 }, () =>
        streams.create({ sourceNodeId: src.nodeId, title: '50% off_sale' }, key),
      ),
    );
    expect(new Set(created.map((s) => s.streamId)).size).toBe(1);
    await streams.create({ sourceNodeId: src.nodeId, title: '50 percent' });
    expect((await streams.list({ q: '50%' })).items.map((s) => s.streamId)).toEqual([created[0].streamId]);
    expect((await streams.list({ q: 'f_s' })).total).toBe(1);
    expect((await streams.list({ q: '50', pageSize: 1, page: 2 })).items).toHaveLength(1);
    const live = await streams.announce({
      streamId: created[0].streamId,
      nodeId: src.nodeId,
      bitrateBps: 1_000_000,
    });
    expect(live).toMatchObject({ status: 'live', bitrateBps: 1_000_000 });
    expect((await streams.listCarriers({ streamId: live.streamId })).map((c) => c.nodeId)).toEqual([
      src.nodeId,
    ]);
  });

  it('records heartbeat reports of carried streams only, in one statement per beat', async () => {
    const src = registerNodeRequest({ uploadLimitBps: 4_000_000 });
    const relay = registerNodeRequest({ uploadLimitBps: 2_000_000 });
    await nodes.register(src);
    await nodes.register(relay);
    const s = await streams.create({ sourceNodeId: src.nodeId, title: 'reported' });
    await streams.announce({ streamId: s.streamId, nodeId: src.nodeId });
    await streams.carrying({ streamId: s.streamId, nodeId: relay.nodeId, hops: 1, carrying: true });
    const other = await streams.create({ sourceNodeId: src.nodeId, title: 'not carried by the relay' });
    const report = { hops: 1, players: 2, localPlayers: 1, forwards: 0, bitrateBps: 1_000_000 };
    await nodes.heartbeat({
      nodeId: src.nodeId,
      uploadBps: 1_000_000,
      committedBps: 1_000_000,
      players: 0,
      streams: [
        {
          ...report,
          streamId: s.streamId,
          hops: 0,
          players: 0,
          localPlayers: 0,
          forwards: 1,
          width: 640,
          height: 360,
        },
      ],
    });
    await nodes.heartbeat({
      nodeId: relay.nodeId,
      forwards: 0,
      uploadBps: 2_000_000,
      committedBps: 2_000_000,
      players: 2,
      supernodeId: src.nodeId,
      streams: [
        { ...report, streamId: s.streamId, upstreamNodeId: src.nodeId },
        { ...report, streamId: other.streamId, players: 40 },
      ],
    });
    expect((await nodes.list()).find((n) => n.nodeId === relay.nodeId)).toMatchObject({
      uploadBps: 2_000_000,
      committedBps: 2_000_000,
      players: 2,
      supernodeId: src.nodeId,
    });
    expect(await streams.listCarriers({ streamId: s.streamId })).toEqual([
      expect.objectContaining({ nodeId: src.nodeId, upstreamNodeId: null, players: 0 }),
      expect.objectContaining({ nodeId: relay.nodeId, upstreamNodeId: src.nodeId, players: 3 }),
    ]);
    expect(await streams.info({ streamId: s.streamId })).toMatchObject({
      viewers: 3,
      carriers: 2,
      width: 640,
      height: 360,
      freeCapacityBps: 3_000_000,
    });
    // The stream the relay does not carry: no carrier row was made, and its viewers stay 0.
    expect(await ds.getRepository(StreamCarrierEntity).countBy({ streamId: other.streamId })).toBe(0);
    expect(await streams.info({ streamId: other.streamId })).toMatchObject({ viewers: 0, carriers: 0 });
    // A heartbeat without reports (today's agents) keeps the rows and clears the node's unknown figures.
    await nodes.heartbeat({ nodeId: relay.nodeId, forwards: 1 });
    expect((await nodes.list()).find((n) => n.nodeId === relay.nodeId)).toMatchObject({ committedBps: null });
    expect((await streams.info({ streamId: s.streamId })).viewers).toBe(3);
  });

  it('keeps one play-token key however many replicas start at once', async () => {
    const keys = await Promise.all(Array.from({ length: 4 }, () => loadOrCreateDirectoryKey(ds)));
    expect(new Set(keys.map((k) => k.publicKey)).size).toBe(1);
    expect(verifySignature(keys[0].publicKey, 'm', keys[3].sign('m'))).toBe(true);
  });

  it('expires silent nodes: their streams end and their supernode role goes', async () => {
    const silent = registerNodeRequest();
    await nodes.register(silent);
    await nodes.promote({ nodeId: silent.nodeId, maxChildren: 5 });
    const s = await streams.create({ sourceNodeId: silent.nodeId, title: 'bye' });
    await streams.announce({ streamId: s.streamId, nodeId: silent.nodeId });
    const later = Date.now() + 60_000;
    const expired = await nodes.expire(later);
    expect(expired).toContain(silent.nodeId);
    expect(await nodes.find(silent.nodeId)).toBeNull();
    expect((await nodes.supernodes()).map((n) => n.nodeId)).not.toContain(silent.nodeId);
    expect(await streams.info({ streamId: s.streamId })).toMatchObject({ status: 'ended' });
    expect(await nodes.expire(later)).toEqual([]);
  });
});

describe('astral directory migrate (PostgreSQL)', () => {
  let db: ScratchDatabase | undefined;
  let logDir: string | undefined;

  afterAll(async () => {
    await db?.drop();
    if (logDir) removeTempDir(logDir);
  }, 30_000);

  it('applies pending migrations and exits; a directory refuses to start on a stale schema', async () => {
    db = await createTestDatabase('astral_dir_migrate');
    logDir = makeTempDir('astral-dir-migrate-');
    const log = `${logDir}/out.log`;
    const refused = spawnAstral('directory', ['directory', '--database-url', db.url, '--port', '0'], {
      logFile: log,
    });
    const exit = await refused.exited;
    expect(exit.code).toBe(1);
    expect(refused.readLog()).toMatch(/5 migration\(s\) pending .*astral directory migrate/);

    const migrate = spawnAstral('migrate', ['directory', 'migrate', '--database-url', db.url], {
      logFile: log,
    });
    expect((await migrate.exited).code).toBe(0);
    expect(migrate.readLog()).toContain('applied NodeKeys1730000000000');
    expect(migrate.readLog()).toContain('5 migration(s) applied');
    const again = spawnAstral('migrate', ['directory', 'migrate', '--database-url', db.url], {
      logFile: log,
    });
    expect((await again.exited).code).toBe(0);
    expect(again.readLog()).toContain('schema is current');
  }, 60_000);
});
