import { join } from 'node:path';
import {
  AstralErrorBody,
  CarrierInfo,
  HeartbeatBody,
  NetworkSnapshot,
  NodeInfo,
  PUBLIC_KEY_PATTERN,
  PlacementReply,
  PublishReply,
  RegisterNodeReply,
  WatchReply,
  StreamInfo,
} from '@astral/contracts';
import { verifyPlayToken } from '@astral/identity';
import { DirectoryClient, claimingBusClient } from '@astral/transport';
import { FlvFilePublisher } from '@astral/media';
import {
  LocalNetwork,
  ManagedProcess,
  agentApi,
  ffprobe,
  sampleFlvPath,
  startLocalNetwork,
  RedisHandle,
  TestNode,
  directoryFetch,
  freePort,
  makeTempDir,
  removeTempDir,
  sleep,
  spawnAstral,
  startRedis,
  testNode,
  waitFor,
} from '@astral/testing';

const MBIT = 1_000_000;

/**
 * Placement against a real `astral directory` process: nodes report over the bus (heartbeats and carrying, as their
 * agents do) and over signed HTTP, and viewers ask where to play. Every refusal next to its legitimate twin.
 */
describe('placement (GET /api/streams/:id/play, /streams/:id/play.flv, /streams/:id/play.m3u8)', () => {
  const cleanups: (() => unknown)[] = [];
  let redis: RedisHandle;
  let dataDir: string;
  let url: string;
  let directory: ManagedProcess;
  let bus: DirectoryClient;
  let directoryKey: string;
  let streamId: string;
  const source = testNode({ host: '10.30.0.1', uploadLimitBps: 3 * MBIT });
  const a = testNode({ host: '10.30.0.2', uploadLimitBps: 5 * MBIT });
  const b = testNode({ host: '10.30.0.3', uploadLimitBps: 5 * MBIT });
  const c = testNode({ host: '10.30.0.4', uploadLimitBps: 5 * MBIT });
  const relays = [a, b, c];

  const startDirectoryProcess = async (name: string, port: number): Promise<ManagedProcess> => {
    const p = spawnAstral(
      name,
      [
        'directory',
        '--port',
        String(port),
        '--redis',
        redis.url,
        '--data-dir',
        dataDir,
        '--heartbeat-ms',
        '20000',
      ],
      {
        logFile: join(dataDir, `${name}.log`),
        env: {
          ...process.env,
          ASTRAL_LOG_LEVEL: 'debug',
          ASTRAL_HTTP_READS_PER_S: '1000',
          ASTRAL_HTTP_WRITES_PER_S: '1000',
          ASTRAL_PUBLIC_URL: 'http://viewers.example:8080',
        },
      },
    );
    cleanups.push(() => p.stop('SIGTERM', 10_000));
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok, {
      timeoutMs: 60_000,
      what: `${name} to be ready`,
    });
    return p;
  };

  const get = async <T>(path: string): Promise<{ status: number; body: T; res: Response }> => {
    const res = await directoryFetch(url, 'GET', path);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, res };
  };
  const nodeInfo = async (n: TestNode): Promise<NodeInfo | undefined> =>
    (await get<NodeInfo[]>('/api/nodes')).body.find((x) => x.nodeId === n.nodeId);
  const stream = async (): Promise<StreamInfo> => (await get<StreamInfo>(`/api/streams/${streamId}`)).body;
  const place = (
    query = '',
  ): Promise<{ status: number; body: PlacementReply & AstralErrorBody; res: Response }> =>
    get(`/api/streams/${streamId}/play${query}`);

  /** Heartbeats over the bus, past the grace of earlier placements; waits until the directory shows each node's committedBps, then past the snapshot cache. */
  const report = async (beats: [TestNode, HeartbeatBody][]): Promise<void> => {
    // Placements of the test before count against their nodes until a heartbeat 1.5 s after them.
    await sleep(1600);
    for (const [n, body] of beats) await bus.heartbeat({ nodeId: n.nodeId, ...body });
    await waitFor(
      async () => {
        for (const [n, body] of beats)
          if ((await nodeInfo(n))?.committedBps !== (body.committedBps ?? null)) return false;
        return true;
      },
      { timeoutMs: 10_000, what: 'the heartbeats to be recorded' },
    );
    await sleep(400);
  };
  const carrierReport = (n: TestNode, committedBps: number, players = 0): [TestNode, HeartbeatBody] => [
    n,
    {
      forwards: 0,
      uploadBps: committedBps,
      committedBps,
      players,
      streams: [
        {
          streamId,
          hops: n === source ? 0 : 1,
          ...(n !== source && { upstreamNodeId: source.nodeId }),
          players,
          localPlayers: 0,
          forwards: 0,
          bitrateBps: MBIT,
          ...(n === source && { width: 640, height: 360 }),
        },
      ],
    },
  ];

  beforeAll(async () => {
    redis = await startRedis();
    cleanups.push(() => redis.stop());
    dataDir = makeTempDir('astral-placement-');
    cleanups.push(() => removeTempDir(dataDir));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    directory = await startDirectoryProcess('directory', port);
    const proxy = claimingBusClient({ url: redis.url });
    await proxy.connect();
    cleanups.push(() => proxy.close());
    bus = new DirectoryClient(proxy, 10_000);
    for (const n of [source, ...relays]) {
      const res = await directoryFetch(url, 'POST', '/api/nodes', n.request, n);
      expect(res.status).toBe(200);
      const reply = (await res.json()) as RegisterNodeReply;
      directoryKey = reply.directoryKey!;
      expect(reply.publicUrl).toBe('http://viewers.example:8080');
    }
    const created = (await (
      await directoryFetch(
        url,
        'POST',
        '/api/streams',
        { sourceNodeId: source.nodeId, title: 'placed show' },
        source,
      )
    ).json()) as StreamInfo;
    streamId = created.streamId;
    const live = await directoryFetch(
      url,
      'POST',
      `/api/streams/${streamId}/announce`,
      { nodeId: source.nodeId },
      source,
    );
    expect(live.status).toBe(200);
    for (const n of relays) await bus.carrying({ streamId, nodeId: n.nodeId, hops: 1, carrying: true });
    await waitFor(
      async () => (await get<CarrierInfo[]>(`/api/streams/${streamId}/carriers`)).body.length === 4,
      {
        what: 'four carriers',
      },
    );
  }, 120_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('publishes one play-token key for every replica, and the public URL', async () => {
    expect(directoryKey).toMatch(PUBLIC_KEY_PATTERN);
    const port = await freePort();
    const second = await startDirectoryProcess('directory-2', port);
    const again = testNode();
    const res = await directoryFetch(`http://127.0.0.1:${port}`, 'POST', '/api/nodes', again.request, again);
    expect(((await res.json()) as RegisterNodeReply).directoryKey).toBe(directoryKey);
    await second.stop('SIGTERM', 10_000);
    expect(directory.readLog(1_000_000)).not.toMatch(/PRIVATE KEY|private_?key/i);
  }, 60_000);

  it('records what heartbeats report, and ignores a report of a stream the node does not carry', async () => {
    const stranger = testNode({ host: '10.30.0.9', uploadLimitBps: 2 * MBIT });
    expect((await directoryFetch(url, 'POST', '/api/nodes', stranger.request, stranger)).status).toBe(200);
    const before = await stream();
    await report([
      carrierReport(source, 2 * MBIT, 2),
      [a, { ...carrierReport(a, MBIT, 1)[1], supernodeId: source.nodeId }],
      carrierReport(b, 0),
      carrierReport(c, 0),
      // The twin: a node that does not carry the stream reports 50 players of it.
      [stranger, { ...carrierReport(stranger, 0, 50)[1] }],
    ]);
    expect(await nodeInfo(a)).toMatchObject({
      uploadBps: MBIT,
      committedBps: MBIT,
      players: 1,
      supernodeId: source.nodeId,
    });
    const carriers = (await get<CarrierInfo[]>(`/api/streams/${streamId}/carriers`)).body;
    expect(carriers.map((x) => x.nodeId).sort()).toEqual([source, a, b, c].map((n) => n.nodeId).sort());
    expect(carriers.find((x) => x.nodeId === a.nodeId)).toMatchObject({
      upstreamNodeId: source.nodeId,
      players: 1,
    });
    expect(carriers.find((x) => x.nodeId === source.nodeId)).toMatchObject({
      upstreamNodeId: null,
      players: 2,
    });
    expect(await stream()).toMatchObject({
      viewers: 3,
      carriers: 4,
      width: 640,
      height: 360,
      bitrateBps: MBIT,
      freeCapacityBps: MBIT + 4 * MBIT + 5 * MBIT + 5 * MBIT,
      needsCapacity: false,
    });
    expect(before.viewers).toBe(0);
    expect(directory.readLog(200_000)).toMatch(/heartbeat stream reports ignored.*not-carried/);
    // Over signed HTTP too, and only for itself.
    const own = await directoryFetch(
      url,
      'POST',
      `/api/nodes/${b.nodeId}/heartbeat`,
      carrierReport(b, 0, 4)[1],
      b,
    );
    expect(own.status).toBe(204);
    const forged = await directoryFetch(
      url,
      'POST',
      `/api/nodes/${c.nodeId}/heartbeat`,
      carrierReport(c, 0, 9)[1],
      b,
    );
    expect(forged.status).toBe(403);
    await waitFor(async () => (await stream()).viewers === 7, { what: 'b reporting 4 players' });
  }, 60_000);

  it('spreads a burst of viewers over the carriers with room, never the source', async () => {
    await report([carrierReport(source, 0), carrierReport(a, 0), carrierReport(b, 0), carrierReport(c, 0)]);
    const firsts = new Map<string, number>();
    for (let i = 0; i < 12; i++) {
      const { status, body } = await place();
      expect(status).toBe(200);
      expect(body.candidates.some((x) => x.source)).toBe(false);
      firsts.set(body.candidates[0].nodeId, (firsts.get(body.candidates[0].nodeId) ?? 0) + 1);
    }
    // 5 Mbit/s each at 1 Mbit/s: the burst counts against each node until its heartbeats show it.
    expect([...firsts.values()]).toEqual([4, 4, 4]);
    expect([...firsts.keys()].sort()).toEqual(relays.map((n) => n.nodeId).sort());
  }, 60_000);

  it('signs a token per candidate that verifies with the published key, and gives ready URLs', async () => {
    await report([
      carrierReport(source, 0),
      carrierReport(a, 0),
      carrierReport(b, MBIT),
      carrierReport(c, 2 * MBIT),
    ]);
    const { status, body } = await place('?limit=3');
    expect(status).toBe(200);
    expect(body.bitrateBps).toBe(MBIT);
    expect(body.candidates.map((x) => x.nodeId)).toEqual([a, b, c].map((n) => n.nodeId));
    for (const cand of body.candidates) {
      const node = relays.find((n) => n.nodeId === cand.nodeId)!;
      const verdict = verifyPlayToken(cand.token, directoryKey, Date.now(), {
        nodeId: cand.nodeId,
        streamId,
      });
      expect(verdict.ok).toBe(true);
      expect(
        verifyPlayToken(cand.token, directoryKey, Date.now(), { nodeId: source.nodeId, streamId }),
      ).toEqual({
        ok: false,
        reason: 'wrong-node',
      });
      expect(cand.flvUrl).toBe(
        `http://${node.request.host}:${node.request.httpPort}/live/${streamId}.flv?play=${cand.token}`,
      );
      expect(cand.wsUrl).toBe(
        `ws://${node.request.host}:${node.request.httpPort}/live/${streamId}.flv?play=${cand.token}`,
      );
      expect(cand.rtmpUrl).toBe(
        `rtmp://${node.request.host}:${node.request.rtmpPort}/live/${streamId}?play=${cand.token}`,
      );
      expect(cand.hlsUrl).toBe(
        `http://${node.request.host}:${node.request.httpPort}/live/${streamId}/index.m3u8?play=${cand.token}`,
      );
      expect(cand.llHlsUrl).toBe(
        `http://${node.request.host}:${node.request.httpPort}/live/${streamId}/ll.m3u8?play=${cand.token}`,
      );
    }
  }, 60_000);

  it('redirects a plain player (302) to the first candidate, with a token the published key verifies', async () => {
    await report([
      carrierReport(source, 0),
      carrierReport(a, 0),
      carrierReport(b, 3 * MBIT),
      carrierReport(c, 3 * MBIT),
    ]);
    const res = await fetch(`${url}/streams/${streamId}/play.flv`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.host).toBe(`${a.request.host}:${a.request.httpPort}`);
    expect(location.pathname).toBe(`/live/${streamId}.flv`);
    const verdict = verifyPlayToken(location.searchParams.get('play'), directoryKey, Date.now(), {
      nodeId: a.nodeId,
      streamId,
    });
    expect(verdict).toMatchObject({ ok: true, claims: { nodeId: a.nodeId, streamId } });
  }, 60_000);

  it('redirects an HLS player (302) to the first candidate playlist, LL-HLS with ll=1, honouring exclude', async () => {
    await report([
      carrierReport(source, 0),
      carrierReport(a, 0),
      carrierReport(b, 3 * MBIT),
      carrierReport(c, 3 * MBIT),
    ]);
    const redirect = async (query: string) => {
      const res = await fetch(`${url}/streams/${streamId}/play.m3u8${query}`, { redirect: 'manual' });
      expect([query, res.status]).toEqual([query, 302]);
      expect(res.headers.get('cache-control')).toBe('no-store');
      return new URL(res.headers.get('location')!);
    };
    for (const [query, playlist] of [
      ['', 'index.m3u8'],
      ['?ll=0', 'index.m3u8'],
      ['?ll=1', 'll.m3u8'],
    ]) {
      const location = await redirect(query);
      expect([query, location.host, location.pathname]).toEqual([
        query,
        `${a.request.host}:${a.request.httpPort}`,
        `/live/${streamId}/${playlist}`,
      ]);
      const verdict = verifyPlayToken(location.searchParams.get('play'), directoryKey, Date.now(), {
        nodeId: a.nodeId,
        streamId,
      });
      expect(verdict).toMatchObject({ ok: true, claims: { nodeId: a.nodeId, streamId } });
    }
    // A full relay sends its HLS players on with ?exclude=<itself>: they land on a carrier with room (b and c tie).
    const relayed = await redirect(`?exclude=${a.nodeId}&ll=1`);
    expect([b, c].map((n) => `${n.request.host}:${n.request.httpPort}`)).toContain(relayed.host);
    expect(relayed.pathname).toBe(`/live/${streamId}/ll.m3u8`);
  }, 60_000);

  it('excludes the nodes a viewer names, and offers the source only when no other carrier has room', async () => {
    await report([
      carrierReport(source, 0),
      carrierReport(a, 0),
      carrierReport(b, 0),
      carrierReport(c, 4.5 * MBIT),
    ]);
    const excluded = await place(`?exclude=${a.nodeId},${b.nodeId}&limit=8`);
    expect(excluded.body.candidates.map((x) => x.nodeId)).toEqual([source.nodeId]);
    expect(excluded.body.candidates[0]).toMatchObject({ source: true, hops: 0 });
    const twin = await place(`?exclude=${a.nodeId}&limit=8`);
    expect(twin.body.candidates.map((x) => x.nodeId)).toEqual([b.nodeId]);
    expect((await stream()).needsCapacity).toBe(true);
    const everyone = await place(`?exclude=${[source, a, b, c].map((n) => n.nodeId).join(',')}`);
    expect(everyone.status).toBe(503);
    expect(everyone.body.message).toContain('excluded');
  }, 60_000);

  it('answers 503 with the reason when every carrier is full, on all three routes', async () => {
    await report([
      carrierReport(source, 2.5 * MBIT),
      carrierReport(a, 4.5 * MBIT),
      carrierReport(b, 5 * MBIT),
      carrierReport(c, 7 * MBIT),
    ]);
    const full = await place();
    expect(full.status).toBe(503);
    expect(full.res.headers.get('retry-after')).toBe('2');
    expect(full.body).toMatchObject({ status: 503, error: 'unavailable' });
    expect(full.body.message).toContain('upload limit');
    const redirect = await fetch(`${url}/streams/${streamId}/play.flv`, { redirect: 'manual' });
    expect(redirect.status).toBe(503);
    const hls = await fetch(`${url}/streams/${streamId}/play.m3u8?ll=1`, { redirect: 'manual' });
    expect([hls.status, hls.headers.get('retry-after')]).toEqual([503, '2']);
    expect(((await hls.json()) as AstralErrorBody).message).toContain('upload limit');
    expect(await stream()).toMatchObject({ freeCapacityBps: 0.5 * MBIT + 0.5 * MBIT, needsCapacity: true });
    // The twin: one node with room again.
    await report([carrierReport(c, 0)]);
    expect((await place()).body.candidates.map((x) => x.nodeId)).toEqual([c.nodeId]);
  }, 60_000);

  it('refuses hostile queries (400), unknown streams (404) and streams not live (409), next to the legit twin', async () => {
    await report([carrierReport(source, 0), carrierReport(a, 0), carrierReport(b, 0), carrierReport(c, 0)]);
    for (const q of [
      '?exclude=not-a-node',
      '?exclude=%00%01',
      `?exclude=${'x,'.repeat(40)}`,
      '?limit=1000000',
      '?limit=0',
      '?limit=abc',
    ])
      expect([q, (await place(q)).status]).toEqual([q, 400]);
    expect((await place(`?exclude=${a.nodeId}&limit=8`)).status).toBe(200);
    expect((await get('/api/streams/no-such-stream-123456/play')).status).toBe(404);
    expect(
      (await fetch(`${url}/streams/no-such-stream-123456/play.flv`, { redirect: 'manual' })).status,
    ).toBe(404);
    expect(
      (await fetch(`${url}/streams/no-such-stream-123456/play.m3u8?ll=1`, { redirect: 'manual' })).status,
    ).toBe(404);
    // ll is 0 or 1, once; anything else is refused, not read as plain HLS. The twins: ll=1 and ll=0 redirect.
    const hls = (q: string) => fetch(`${url}/streams/${streamId}/play.m3u8${q}`, { redirect: 'manual' });
    for (const q of ['?ll=2', '?ll=true', '?ll=', '?ll=1&ll=1', '?ll=%00', '?ll=1&exclude=not-a-node']) {
      const res = await hls(q);
      const body = (await res.json()) as AstralErrorBody;
      expect([q, res.status, body.error]).toEqual([q, 400, 'bad-request']);
    }
    expect([(await hls('?ll=1')).status, (await hls('?ll=0')).status]).toEqual([302, 302]);
    expect((await get('/api/streams/BAD..ID/play')).status).toBe(400);
    const created = (await (
      await directoryFetch(
        url,
        'POST',
        '/api/streams',
        { sourceNodeId: source.nodeId, title: 'not yet' },
        source,
      )
    ).json()) as StreamInfo;
    const notLive = await get<AstralErrorBody>(`/api/streams/${created.streamId}/play`);
    expect([notLive.status, notLive.body.error]).toEqual([409, 'conflict']);
  }, 60_000);

  it('draws the network (membership and forward edges) and exports per-stream and per-node metrics', async () => {
    await report([
      carrierReport(source, MBIT, 1),
      [a, { ...carrierReport(a, 0, 2)[1], supernodeId: source.nodeId }],
      carrierReport(b, 0),
      carrierReport(c, 0),
    ]);
    const network = await waitFor(
      async () => {
        const snap = (await get<NetworkSnapshot>('/api/network')).body;
        return snap.edges.some((e) => e.kind === 'membership') ? snap : undefined;
      },
      { what: 'the membership edge in the network snapshot' },
    );
    expect(network.truncated).toBe(false);
    expect(network.nodes.find((x) => x.nodeId === a.nodeId)).toMatchObject({
      supernodeId: source.nodeId,
      uploadLimitBps: 5 * MBIT,
      players: 2,
      host: a.request.host,
    });
    expect(network.streams).toEqual([
      { streamId, title: 'placed show', sourceNodeId: source.nodeId, viewers: 3 },
    ]);
    expect(network.edges).toEqual(
      expect.arrayContaining([
        { kind: 'membership', from: a.nodeId, to: source.nodeId, streamId: null },
        ...relays.map((n) => ({ kind: 'forward', from: source.nodeId, to: n.nodeId, streamId })),
      ]),
    );
    expect(network.edges).toHaveLength(4);

    const metrics = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();
    const text = await metrics();
    expect(text).toContain(`astral_directory_stream_viewers{stream_id="${streamId}"} 3`);
    expect(text).toContain(`astral_directory_stream_free_capacity_bps{stream_id="${streamId}"} ${17 * MBIT}`);
    expect(text).toContain(`astral_directory_node_committed_bps{node_id="${source.nodeId}"} ${MBIT}`);
    expect(text).toContain(`astral_directory_node_upload_bps{node_id="${source.nodeId}"} ${MBIT}`);
    const placed = Number(/astral_directory_placements_total\{result="placed"\} (\d+)/.exec(text)?.[1]);
    expect(placed).toBeGreaterThanOrEqual(12);
    expect(text).toMatch(/astral_directory_placements_total\{result="no-room"\} [1-9]/);
    expect(text).toMatch(/astral_directory_placements_total\{result="source"\} [1-9]/);
    // An ended stream's series go.
    const ended = await directoryFetch(url, 'POST', `/api/streams/${streamId}/end`, undefined, source);
    expect(ended.status).toBe(200);
    expect(await metrics()).not.toContain(`stream_id="${streamId}"`);
  }, 60_000);
});

/**
 * With real nodes (which send only what main's agent sends today: forwards and member counts, no commitment): the
 * directory places a player on the carrier that is not the source, and a plain player (ffprobe) plays through the
 * redirecting form.
 */
describe('placement with real nodes (LocalNetwork)', () => {
  let net: LocalNetwork;
  let publisher: FlvFilePublisher | null = null;

  beforeAll(async () => {
    net = await startLocalNetwork({ nodes: [{ uploadLimit: '1.5mbit' }, { uploadLimit: '4mbit' }] });
  }, 200_000);

  afterAll(async () => {
    await publisher?.stop().catch(() => undefined);
    await net?.stop();
  }, 60_000);

  it('places a viewer on the node that is not the source, and ffprobe plays the 302 form', async () => {
    const [source, relay] = net.nodes;
    const stream = await agentApi<PublishReply>(source, 'POST', '/api/streams', { title: 'real placement' });
    publisher = new FlvFilePublisher({ file: sampleFlvPath(), url: stream.publishUrl });
    await publisher.start();
    await waitFor(
      () => agentApi<WatchReply>(relay, 'POST', `/api/streams/${stream.streamId}/watch`).catch(() => null),
      { timeoutMs: 30_000, intervalMs: 500, what: 'the relay node to get a ticket' },
    );
    const placed = await waitFor(
      async () => {
        const res = await directoryFetch(net.directoryUrl, 'GET', `/api/streams/${stream.streamId}/play`);
        const body = (await res.json()) as PlacementReply;
        return res.status === 200 && body.candidates[0]?.nodeId === relay.nodeId ? body : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 300, what: 'a placement on the relay node' },
    );
    expect(placed.candidates.map((c) => c.source)).toEqual([false]);
    expect(placed.candidates[0].flvUrl).toContain(`${relay.httpUrlBase}/${stream.streamId}.flv?play=`);
    const probe = await ffprobe(`${net.directoryUrl}/streams/${stream.streamId}/play.flv`, {
      timeoutMs: 30_000,
      readSeconds: 2,
    });
    const frames = (type: string): number =>
      probe.streams.filter((s) => s.codec_type === type).reduce((n, s) => n + Number(s.nb_read_frames), 0);
    expect(frames('video')).toBeGreaterThan(10);
    expect(frames('audio')).toBeGreaterThan(10);
  }, 120_000);
});
