import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientProxy } from '@nestjs/microservices';
import Redis from 'ioredis';
import {
  AstralError,
  AstralErrorBody,
  DirectoryPatterns,
  NodeInfo,
  STREAM_ID_PATTERN,
  StreamInfo,
  fromSender,
} from '@astral/contracts';
import { DirectoryClient, REQUEST_GATE_TTL_MS, claimingBusClient, request } from '@astral/transport';
import {
  RedisHandle,
  directoryFetch,
  freePort,
  newOperatorToken,
  registerNodeRequest,
  sleep,
  startRedis,
  testNode,
  waitFor,
} from '@astral/testing';
import { startDirectory } from '../apps/directory/src/main';

/** Polls until check returns a value (not undefined), or fails after timeoutMs. */
const eventually = <T>(check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> =>
  waitFor(check, { timeoutMs, intervalMs: 50, what: 'the directory to reach the expected state' });

/** One directory with its own redis-server, data directory and Redis client. */
class Harness {
  readonly cleanups: (() => unknown)[] = [];
  redis!: RedisHandle;
  httpUrl!: string;
  /** The directory's ASTRAL_OPERATOR_TOKEN, for the HTTP routes that change something. */
  readonly operator = { operatorToken: newOperatorToken() };
  proxy!: ClientProxy;
  sut!: DirectoryClient;

  private env: NodeJS.ProcessEnv = {};
  private directory?: { close(): Promise<void>; httpUrl: string };

  async start(env: NodeJS.ProcessEnv = {}): Promise<void> {
    const tmp = mkdtempSync(join(tmpdir(), 'astral-directory-'));
    this.cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    this.redis = await startRedis();
    this.cleanups.push(() => this.redis.stop());
    this.env = {
      ASTRAL_DIRECTORY_PORT: String(await freePort()),
      ASTRAL_DIRECTORY_HOST: '127.0.0.1',
      REDIS_URL: this.redis.url,
      ASTRAL_DATA_DIR: join(tmp, 'data'),
      ASTRAL_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
      ASTRAL_OPERATOR_TOKEN: this.operator.operatorToken,
      ...env,
    };
    this.cleanups.push(() => this.directory?.close());
    await this.startDirectory();
    this.proxy = claimingBusClient({ url: this.redis.url });
    this.cleanups.push(() => this.proxy.close());
    await this.proxy.connect();
    this.sut = new DirectoryClient(this.proxy, 5000);
  }

  /** Stops the directory and starts it again on the same data directory and port. */
  async restartDirectory(): Promise<void> {
    await this.directory?.close();
    this.directory = undefined;
    await this.startDirectory();
  }

  private async startDirectory(): Promise<void> {
    this.directory = await startDirectory(this.env);
    this.httpUrl = this.directory.httpUrl;
  }

  /** Undo everything that started, newest first, even if some steps fail. */
  async stop(): Promise<void> {
    const errors: unknown[] = [];
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        errors.push(err);
      }
    }
    this.cleanups.length = 0;
    if (errors.length > 0) throw errors[0];
  }
}

describe('Directory', () => {
  const h = new Harness();
  const nodeA = registerNodeRequest({ host: '10.0.0.1', rtmpPort: 1936, httpPort: 8001 });
  const nodeB = registerNodeRequest({ host: '10.0.0.2', uploadLimitBps: 3_000_000 });
  let streamId: string;

  beforeAll(async () => {
    await h.start({ ASTRAL_HEARTBEAT_MS: '10000' });
  }, 60000);

  afterAll(async () => {
    await h.stop();
  }, 60000);

  it('answers /healthz and /readyz (database and Redis)', async () => {
    const res = await fetch(`${h.httpUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
    const ready = await fetch(`${h.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      details: { database: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('serves the OpenAPI document at /api/docs', async () => {
    const ui = await fetch(`${h.httpUrl}/api/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
    const doc = (await (await fetch(`${h.httpUrl}/api/docs/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
      components: {
        schemas: Record<
          string,
          { required?: string[]; properties: Record<string, { type?: string; maximum?: number }> }
        >;
      };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/nodes',
        '/api/supernodes',
        '/api/streams',
        '/api/streams/{streamId}',
        '/readyz',
      ]),
    );
    const reg = doc.components.schemas.RegisterNodeRequest;
    expect(reg.required).toEqual(expect.arrayContaining(['nodeId', 'host', 'rtmpPort', 'version']));
    expect(reg.required).not.toContain('uploadLimitBps');
    expect(reg.properties.rtmpPort).toMatchObject({ type: 'integer', maximum: 65535 });
    // Patterns held in constants (HOST_PATTERN, STREAM_ID_PATTERN), which the swagger plugin alone does not read (scripts/build.js).
    expect(reg.properties.host).toMatchObject({ type: 'string', pattern: '^[A-Za-z0-9.:\\-[\\]]{1,253}$' });
    expect(doc.components.schemas.StreamRef.properties.streamId).toMatchObject({
      pattern: STREAM_ID_PATTERN.source,
    });
    // Replies are the contracts' classes: nullable fields, date-time formats and port ranges documented.
    const { NodeInfo, StreamInfo, CarrierInfo } = doc.components.schemas;
    expect(NodeInfo.properties.lastSeenAt).toMatchObject({ type: 'string', format: 'date-time' });
    expect(NodeInfo.properties.uploadLimitBps).toMatchObject({ type: 'integer', nullable: true });
    expect(StreamInfo.required).toEqual(expect.arrayContaining(['streamId', 'startedAt', 'endedAt']));
    expect(StreamInfo.properties.startedAt).toMatchObject({
      type: 'string',
      format: 'date-time',
      nullable: true,
    });
    expect(CarrierInfo.properties.forwardPort).toMatchObject({ type: 'integer', minimum: 1, maximum: 65535 });
  });

  it('registers two nodes, idempotently', async () => {
    const a = await h.sut.register(nodeA);
    expect(a.heartbeatIntervalMs).toBe(10000);
    expect(a.supernodes).toEqual([]);
    expect(a.node).toMatchObject({
      nodeId: nodeA.nodeId,
      host: '10.0.0.1',
      supernode: false,
      uploadLimitBps: null,
    });
    const b = await h.sut.register(nodeB);
    expect(b.node.uploadLimitBps).toBe(3_000_000);
    await h.sut.register(nodeA);

    const nodes = await h.sut.listNodes();
    expect(nodes.map((n) => n.nodeId).sort()).toEqual([nodeA.nodeId, nodeB.nodeId].sort());
    expect(await h.sut.listNodes({ supernodesOnly: true })).toEqual([]);
  });

  it('records heartbeats', async () => {
    const before = (await h.sut.listNodes()).find((n) => n.nodeId === nodeB.nodeId)!.lastSeenAt;
    await sleep(20);
    await h.sut.heartbeat({ nodeId: nodeB.nodeId, forwards: 1 });
    const after = await eventually(async () => {
      const seen = (await h.sut.listNodes()).find((n) => n.nodeId === nodeB.nodeId)!.lastSeenAt;
      return seen > before ? seen : undefined;
    });
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));
    // A heartbeat from a node the directory does not know is ignored: it does not create the node.
    const ghost = randomUUID();
    const countBefore = (await h.sut.listNodes()).length;
    await h.sut.heartbeat({ nodeId: ghost });
    await sleep(300);
    const listed = await h.sut.listNodes();
    expect(listed.some((n) => n.nodeId === ghost)).toBe(false);
    expect(listed).toHaveLength(countBefore);
  });

  it('promotes, ranks and demotes supernodes', async () => {
    const far = registerNodeRequest({ host: '192.168.7.7' });
    const near = registerNodeRequest({ host: '10.0.0.9' });
    const full = registerNodeRequest({ host: '10.0.0.8' });
    for (const n of [far, near, full]) await h.sut.register(n);
    await expect(h.sut.promoteSupernode({ nodeId: randomUUID(), maxChildren: 5 })).rejects.toMatchObject({
      status: 404,
    });
    expect(await h.sut.promoteSupernode({ nodeId: far.nodeId, maxChildren: 5 })).toMatchObject({
      supernode: true,
      maxChildren: 5,
      childCount: 0,
    });
    await h.sut.promoteSupernode({ nodeId: near.nodeId, maxChildren: 5 });
    await h.sut.promoteSupernode({ nodeId: full.nodeId, maxChildren: 2 });
    await h.sut.heartbeat({ nodeId: full.nodeId, childCount: 2 });
    await h.sut.heartbeat({ nodeId: near.nodeId, childCount: 1 });
    await eventually(async () =>
      (await h.sut.listSupernodes()).find((n) => n.nodeId === full.nodeId)?.childCount === 2
        ? true
        : undefined,
    );

    const ranked = await h.sut.listSupernodes({ hint: '10.0.0.1', nodeId: near.nodeId });
    expect(ranked.map((n) => n.nodeId)).toEqual([far.nodeId, full.nodeId]);
    const all = await h.sut.listSupernodes({ hint: '10.0.0.1' });
    expect(all.map((n) => n.nodeId)).toEqual([near.nodeId, far.nodeId, full.nodeId]);
    expect((await h.sut.listSupernodes({ limit: 1 })).length).toBe(1);
    // The register reply offers the same ranking, hinted by the joining node's host.
    const joining = await h.sut.register(registerNodeRequest({ host: '10.0.0.77' }));
    expect(joining.supernodes.map((n) => n.nodeId)).toEqual([near.nodeId, far.nodeId, full.nodeId]);
    await h.sut.unregister({ nodeId: joining.node.nodeId });

    const http = await fetch(`${h.httpUrl}/api/supernodes?hint=192.168.0.1&limit=2`);
    expect(((await http.json()) as NodeInfo[]).map((n) => n.nodeId)).toEqual([far.nodeId, near.nodeId]);
    const demoted = await directoryFetch(
      h.httpUrl,
      'DELETE',
      `/api/nodes/${far.nodeId}/supernode`,
      undefined,
      h.operator,
    );
    expect(await demoted.json()).toMatchObject({ supernode: false, maxChildren: null });
    expect(await h.sut.demoteSupernode({ nodeId: near.nodeId })).toMatchObject({ supernode: false });
    const promoted = await directoryFetch(
      h.httpUrl,
      'POST',
      `/api/nodes/${near.nodeId}/supernode`,
      { maxChildren: 0 },
      h.operator,
    );
    expect(promoted.status).toBe(400);
    expect((await h.sut.listSupernodes()).map((n) => n.nodeId)).toEqual([full.nodeId]);
    for (const n of [far, near, full]) await h.sut.unregister({ nodeId: n.nodeId });
  });

  it('creates and announces a stream', async () => {
    await expect(h.sut.createStream({ sourceNodeId: randomUUID(), title: 'Nobody' })).rejects.toMatchObject({
      status: 404,
      code: 'not-found',
    });

    const created = await h.sut.createStream({
      sourceNodeId: nodeA.nodeId,
      title: 'My Show!',
      description: 'a <test>',
    });
    expect(created.streamId).toMatch(/^my-show-[0-9a-f]{6}$/);
    expect(created).toMatchObject({ status: 'created', startedAt: null, sourceNodeId: nodeA.nodeId });
    streamId = created.streamId;

    await expect(h.sut.announceStream({ streamId, nodeId: nodeB.nodeId })).rejects.toMatchObject({
      status: 403,
    });

    const live = await h.sut.announceStream({ streamId, nodeId: nodeA.nodeId, bitrateBps: 2_500_000 });
    expect(live).toMatchObject({ streamId, status: 'live', bitrateBps: 2_500_000 });
    expect(live.startedAt).not.toBeNull();
    expect(await h.sut.getStream({ streamId })).toEqual(live);
  });

  it('lists streams with search, status filter and pagination', async () => {
    const other = await h.sut.createStream({ sourceNodeId: nodeB.nodeId, title: 'Cooking 100% live' });

    const found = await h.sut.listStreams({ q: 'my SHOW' });
    expect(found.items.map((s) => s.streamId)).toEqual([streamId]);
    expect(found).toMatchObject({ total: 1, page: 1, pageSize: 50 });

    expect((await h.sut.listStreams({ q: '100%' })).items.map((s) => s.streamId)).toEqual([other.streamId]);
    expect((await h.sut.listStreams({ q: '0%l' })).total).toBe(0);
    expect((await h.sut.listStreams({ status: 'live' })).items.map((s) => s.streamId)).toEqual([streamId]);

    const all = await h.sut.listStreams();
    expect(all.items.map((s) => s.streamId)).toEqual([other.streamId, streamId]);
    const page2 = await h.sut.listStreams({ page: 2, pageSize: 1 });
    expect(page2).toMatchObject({ total: 2, page: 2, pageSize: 1 });
    expect(page2.items.map((s) => s.streamId)).toEqual([streamId]);
  });

  it('lists carriers by hops', async () => {
    await h.sut.carrying({ streamId, nodeId: nodeB.nodeId, hops: 1, carrying: true });
    const carriers = await eventually(async () => {
      const list = await h.sut.listCarriers({ streamId });
      return list.length === 2 ? list : undefined;
    });
    expect(carriers).toEqual([
      {
        nodeId: nodeA.nodeId,
        hops: 0,
        host: '10.0.0.1',
        forwardPort: 9000,
        apiPort: 7000,
        upstreamNodeId: null,
        players: 0,
      },
      {
        nodeId: nodeB.nodeId,
        hops: 1,
        host: '10.0.0.2',
        forwardPort: 9000,
        apiPort: 7000,
        upstreamNodeId: null,
        players: 0,
      },
    ]);
    await expect(h.sut.listCarriers({ streamId: 'no-such-stream' })).rejects.toMatchObject({ status: 404 });
  });

  it('answers an unknown stream with a not-found AstralError', async () => {
    const err = await h.sut.getStream({ streamId: 'no-such-stream' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AstralError);
    expect(err).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('serves the JSON API', async () => {
    const unknown = await fetch(`${h.httpUrl}/api/streams/no-such-stream`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      status: 404,
      error: 'not-found',
      message: 'no stream no-such-stream',
    });

    const stream = await fetch(`${h.httpUrl}/api/streams/${streamId}`);
    expect(stream.status).toBe(200);
    expect(await stream.json()).toMatchObject({ streamId, status: 'live' });

    const list = await fetch(`${h.httpUrl}/api/streams?q=show&status=live&page=1&pageSize=10`);
    expect(await list.json()).toMatchObject({ total: 1, page: 1, pageSize: 10, items: [{ streamId }] });

    const carriers = await fetch(`${h.httpUrl}/api/streams/${streamId}/carriers`);
    expect(((await carriers.json()) as unknown[]).length).toBe(2);

    const nodes = await fetch(`${h.httpUrl}/api/nodes`);
    expect(((await nodes.json()) as unknown[]).length).toBe(2);

    // Pages hold at most 100 items (MAX_PAGE_SIZE): asking for more is refused, not clamped.
    for (const path of [
      '/api/streams?pageSize=101',
      '/api/nodes?limit=101',
      `/api/streams/${streamId}/carriers?limit=101`,
    ]) {
      const badQuery = await fetch(`${h.httpUrl}${path}`);
      expect([path, badQuery.status]).toEqual([path, 400]);
    }
    const firstNode = (await (await fetch(`${h.httpUrl}/api/nodes?limit=1`)).json()) as NodeInfo[];
    const secondNode = (await (await fetch(`${h.httpUrl}/api/nodes?limit=1&offset=1`)).json()) as NodeInfo[];
    expect([firstNode.length, secondNode.length]).toEqual([1, 1]);
    expect(secondNode[0].nodeId).not.toBe(firstNode[0].nodeId);
    const nearest = await fetch(`${h.httpUrl}/api/streams/${streamId}/carriers?limit=1`);
    expect(((await nearest.json()) as unknown[]).length).toBe(1);
  });

  it('registers over HTTP and rejects a bad body with field errors', async () => {
    const bad = await directoryFetch(
      h.httpUrl,
      'POST',
      '/api/nodes',
      { nodeId: 'x', host: 'bad host!', rtmpPort: 70000 },
      h.operator,
    );
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as AstralErrorBody;
    expect(body).toMatchObject({ status: 400, error: 'bad-request' });
    expect(Object.keys(body.fields ?? {})).toEqual(
      expect.arrayContaining(['nodeId', 'host', 'rtmpPort', 'version']),
    );

    const notJson = await fetch(`${h.httpUrl}/api/nodes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"nodeId":',
    });
    expect(notJson.status).toBe(400);

    const huge = await fetch(`${h.httpUrl}/api/nodes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...registerNodeRequest(), version: 'x'.repeat(70 * 1024) }),
    });
    expect(huge.status).toBe(413);

    // A node registers and unregisters itself over HTTP, signing as itself.
    const extra = testNode();
    const ok = await directoryFetch(h.httpUrl, 'POST', '/api/nodes', extra.request, extra);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      node: { nodeId: extra.nodeId, publicKey: extra.keys.publicKey },
    });
    const del = await directoryFetch(h.httpUrl, 'DELETE', `/api/nodes/${extra.nodeId}`, undefined, extra);
    expect(await del.json()).toEqual({ removed: true });
  });

  it('renders HTML pages with escaped text and play URLs', async () => {
    const home = await fetch(`${h.httpUrl}/?q=show`);
    expect(home.headers.get('content-type')).toContain('text/html');
    const homeHtml = await home.text();
    expect(homeHtml).toContain(`href="/streams/${streamId}"`);
    expect(homeHtml).not.toContain('Cooking');

    const page = await (await fetch(`${h.httpUrl}/streams/${streamId}`)).text();
    expect(page).toContain('My Show!');
    expect(page).toContain('a &#60;test&#62;');
    expect(page).toContain(`rtmp://10.0.0.1:1936/live/${streamId}`);
    expect(page).toContain(`http://10.0.0.1:8001/live/${streamId}.flv`);
    expect(page).toContain(`http://10.0.0.2:8000/live/${streamId}.flv`);

    const nodes = await (await fetch(`${h.httpUrl}/nodes`)).text();
    expect(nodes).toContain(nodeA.nodeId);
  });

  it('gives the stream page a player fed by mpegts.js from this server', async () => {
    const page = await (await fetch(`${h.httpUrl}/streams/${streamId}`)).text();
    expect(page).toContain('<video id="player"');
    expect(page).toContain('<script src="/assets/mpegts.js"></script>');
    const config = /<script type="application\/json" id="astral-play">([\s\S]*?)<\/script>/.exec(page)?.[1];
    // The player asks the directory for a placement (GET /api/streams/:id/play): the page names only the
    // stream and where the viewer's own node may answer, not the carriers.
    expect(JSON.parse(config ?? 'null')).toEqual({ streamId, ownNodeApi: 'http://127.0.0.1:7000' });
    const js = await fetch(`${h.httpUrl}/assets/mpegts.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await js.text()).length).toBeGreaterThan(100_000);
    // The player is a file of its own, after mpegts.js; the page has no inline script.
    const scripts = [...page.matchAll(/<script src="([^"]+)"><\/script>/g)].map((m) => m[1]);
    expect(scripts).toContain('/assets/stream-player.js');
    expect(scripts.indexOf('/assets/mpegts.js')).toBeLessThan(scripts.indexOf('/assets/stream-player.js'));
    expect(page).not.toMatch(/<script>(?!<\/script>)/); // no inline script (the pages' CSP forbids it)
    const player = await fetch(`${h.httpUrl}/assets/stream-player.js`);
    expect(player.status).toBe(200);
    expect(player.headers.get('content-type')).toContain('javascript');
    expect(player.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await player.text()).toContain("document.getElementById('astral-play')");
  });

  it('creates one stream per idempotency key over HTTP', async () => {
    const post = (key: string): Promise<Response> =>
      directoryFetch(
        h.httpUrl,
        'POST',
        '/api/streams',
        { sourceNodeId: nodeA.nodeId, title: 'Retried' },
        h.operator,
        { 'idempotency-key': key },
      );
    const key = randomUUID();
    const first = (await (await post(key)).json()) as StreamInfo;
    const again = (await (await post(key)).json()) as StreamInfo;
    expect(again.streamId).toBe(first.streamId);
    expect((await h.sut.listStreams({ q: 'retried' })).total).toBe(1);
    const other = (await (await post(randomUUID())).json()) as StreamInfo;
    expect(other.streamId).not.toBe(first.streamId);
    for (const id of [first.streamId, other.streamId]) {
      const end = await directoryFetch(h.httpUrl, 'POST', `/api/streams/${id}/end`, undefined, h.operator);
      expect(end.status).toBe(200);
    }
  });

  it('exports Prometheus metrics', async () => {
    const res = await fetch(`${h.httpUrl}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('astral_directory_registrations_total')).toBeGreaterThanOrEqual(3);
    expect(value('astral_directory_heartbeats_total')).toBeGreaterThanOrEqual(1);
    expect(value('astral_directory_nodes')).toBe((await h.sut.listNodes()).length);
    expect(value('astral_directory_supernodes')).toBe(0);
    expect(value('astral_directory_live_streams')).toBe(1);
  });

  it('rejects an invalid Redis payload with 400 and field errors', async () => {
    const err = await request(h.proxy, DirectoryPatterns.RegisterNode, {
      ...registerNodeRequest(),
      host: 'not a host!',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AstralError);
    expect(err).toMatchObject({ status: 400, code: 'bad-request', fields: { host: [expect.any(String)] } });
    // A node id that is not one cannot be the sender: refused before validation.
    await expect(
      request(h.proxy, DirectoryPatterns.RegisterNode, { ...registerNodeRequest(), nodeId: 'x' }),
    ).rejects.toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('survives garbage published on its channels', async () => {
    const raw = new Redis(h.redis.url);
    try {
      // Without a sender (refused first) and with one (through the message screen).
      for (const channel of [
        DirectoryPatterns.RegisterNode,
        DirectoryPatterns.NodeHeartbeat,
        fromSender(DirectoryPatterns.RegisterNode, nodeA.nodeId),
        fromSender(DirectoryPatterns.NodeHeartbeat, nodeA.nodeId),
      ]) {
        for (const garbage of [
          'not json {',
          'null',
          '42',
          '[]',
          '{"id":"1"}',
          '{"pattern":1,"data":{"nodeId":7}}',
        ]) {
          const receivers = await raw.publish(channel, garbage);
          expect(receivers).toBeGreaterThanOrEqual(1);
        }
      }
    } finally {
      raw.disconnect();
    }
    await sleep(200);
    const nodes = await h.sut.listNodes();
    expect(nodes.map((n) => n.nodeId).sort()).toEqual([nodeA.nodeId, nodeB.nodeId].sort());
    expect((await h.sut.register(nodeA)).node.nodeId).toBe(nodeA.nodeId);
  });

  it('answers a request retried with its packet id alike, applying it once', async () => {
    const node = registerNodeRequest();
    await h.sut.register(node);
    const sub = new Redis(h.redis.url);
    const pub = new Redis(h.redis.url);
    try {
      const replies: unknown[] = [];
      // The node's own channel for the pattern, and its own reply channel.
      const channel = fromSender(DirectoryPatterns.UnregisterNode, node.nodeId);
      await sub.subscribe(`${channel}.reply`);
      sub.on('message', (_channel: string, message: string) => replies.push(JSON.parse(message)));
      const packet = JSON.stringify({
        pattern: DirectoryPatterns.UnregisterNode,
        data: { nodeId: node.nodeId },
        id: randomUUID(),
      });
      await pub.publish(channel, packet);
      // The same packet again, a retry later (replicas that receive one delivery queue it once: work-queue.ts).
      await sleep(REQUEST_GATE_TTL_MS + 200);
      await pub.publish(channel, packet);
      await eventually(() =>
        Promise.resolve(
          replies.filter((r) => (r as { isDisposed?: boolean }).isDisposed).length === 2 ? true : undefined,
        ),
      );
      const answers = replies.filter((r) => (r as { response?: unknown }).response !== undefined);
      expect(answers.map((r) => (r as { response: unknown }).response)).toEqual([
        { removed: true },
        { removed: true },
      ]);
      // A new request (a new packet id) is a new unregistration: the node is gone now.
      expect(await h.sut.unregister({ nodeId: node.nodeId })).toEqual({ removed: false });
    } finally {
      sub.disconnect();
      pub.disconnect();
    }
  });

  it('unregisters a node and ends a stream', async () => {
    expect(await h.sut.unregister({ nodeId: nodeB.nodeId })).toEqual({ removed: true });
    expect(await h.sut.unregister({ nodeId: nodeB.nodeId })).toEqual({ removed: false });
    expect((await h.sut.listCarriers({ streamId })).map((c) => c.nodeId)).toEqual([nodeA.nodeId]);
    const cooking = (await h.sut.listStreams({ q: 'cooking' })).items[0];
    expect(cooking.status).toBe('ended');

    // Only the source node ends its stream over the bus.
    await expect(h.sut.endStream({ streamId, nodeId: nodeB.nodeId })).rejects.toMatchObject({ status: 403 });
    expect((await h.sut.getStream({ streamId })).status).toBe('live');
    const ended = await h.sut.endStream({ streamId, nodeId: nodeA.nodeId });
    expect(ended.status).toBe('ended');
    expect(ended.endedAt).not.toBeNull();
    expect(await h.sut.endStream({ streamId, nodeId: nodeA.nodeId })).toEqual(ended);
    expect(await h.sut.listCarriers({ streamId })).toEqual([]);
    await expect(h.sut.announceStream({ streamId, nodeId: nodeA.nodeId })).rejects.toMatchObject({
      status: 409,
    });
  });

  it('keeps its data across a restart, running the migration once', async () => {
    const before = await h.sut.listStreams();
    await h.restartDirectory();
    expect(await h.sut.listStreams()).toEqual(before);
    expect((await h.sut.listNodes()).map((n) => n.nodeId)).toEqual([nodeA.nodeId]);
  });

  describe('expiry', () => {
    const x = new Harness();
    const heartbeatMs = 300;

    beforeAll(async () => {
      await x.start({ ASTRAL_HEARTBEAT_MS: String(heartbeatMs) });
    }, 60000);

    afterAll(async () => {
      await x.stop();
    }, 60000);

    it('removes a silent node and ends its live stream', async () => {
      const silent = registerNodeRequest();
      const alive = registerNodeRequest();
      await x.sut.register(silent);
      const registeredAt = Date.now();
      await x.sut.register(alive);
      await x.sut.promoteSupernode({ nodeId: silent.nodeId, maxChildren: 10 });
      const { streamId: id } = await x.sut.createStream({ sourceNodeId: silent.nodeId, title: 'Going away' });
      await x.sut.announceStream({ streamId: id, nodeId: silent.nodeId });
      await x.sut.carrying({ streamId: id, nodeId: alive.nodeId, hops: 1, carrying: true });

      const bound = 3 * heartbeatMs + 1000;
      const heartbeats = setInterval(
        () => void x.sut.heartbeat({ nodeId: alive.nodeId }).catch(() => undefined),
        100,
      );
      try {
        await eventually(
          async () => {
            const nodes = await x.sut.listNodes();
            return nodes.some((n) => n.nodeId === silent.nodeId) ? undefined : nodes;
          },
          bound + heartbeatMs + 1500,
        );
      } finally {
        clearInterval(heartbeats);
      }
      const elapsed = Date.now() - registeredAt;
      expect(elapsed).toBeGreaterThanOrEqual(bound - 50);
      expect(elapsed).toBeLessThan(bound + heartbeatMs + 1500);

      expect((await x.sut.listNodes()).map((n) => n.nodeId)).toEqual([alive.nodeId]);
      expect(await x.sut.listSupernodes()).toEqual([]);
      const gone = await x.sut.getStream({ streamId: id });
      expect(gone.status).toBe('ended');
      expect(gone.endedAt).not.toBeNull();
      expect(await x.sut.listCarriers({ streamId: id })).toEqual([]);
    });
  });
});
