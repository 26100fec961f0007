import type { NodeInfo, PublishReply, WatchReply } from '@astral/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { ClientProxy } from '@nestjs/microservices';
import { AgentPatterns, DirectoryPatterns, RelayPatterns, addressed, fromSender } from '@astral/contracts';
import { generateNodeKeys } from '@astral/identity';
import { FlvFilePublisher } from '@astral/media';
import {
  ACL_DEFAULT_OFF,
  BusGrant,
  NodeAddressedRedisServer,
  busClient,
  emit,
  grantBusUser,
  redisTransport,
  request,
} from '@astral/transport';
import {
  FlvTagReader,
  LocalNetwork,
  RedisHandle,
  agentApi,
  freePort,
  registerNodeRequest,
  sampleFlvPath,
  sleep,
  startLocalNetwork,
  startRedis,
  waitFor,
} from '@astral/testing';

/**
 * The attack suite of the bus (docs/SECURITY.md): a real Redis with per-node ACL users provisioned by
 * `grantBusUser` (what `astral redis grant` runs), a directory and two nodes A → B carrying a live
 * stream, and an attacker C holding its own valid credentials. Every attack must fail, the stream must
 * keep flowing, and each attack's legitimate twin must still work, so the suite cannot pass by
 * refusing everything.
 */
describe('the bus: a node acts only as itself', () => {
  const ids = { A: randomUUID(), B: randomUUID(), C: randomUUID() };
  /** The attacker's own key: the directory binds C's id to it at C's first registration. */
  const keysC = generateNodeKeys();
  let redis: RedisHandle;
  let adminUrl: string;
  const grants: Record<'A' | 'B' | 'C' | 'directory', BusGrant> = {} as never;
  let net: LocalNetwork;
  let publisher: FlvFilePublisher | null = null;
  let reader: FlvTagReader | null = null;
  let stream: PublishReply;
  let asC: ClientProxy;
  let asA: ClientProxy;
  let rawC: Redis;

  beforeAll(async () => {
    const adminPassword = randomBytes(18).toString('base64url');
    redis = await startRedis({ acl: [ACL_DEFAULT_OFF, `user admin on >${adminPassword} ~* &* +@all`] });
    adminUrl = `redis://admin:${adminPassword}@127.0.0.1:${redis.port}`;
    grants.directory = await grantBusUser(adminUrl, { role: 'directory' });
    for (const n of ['A', 'B', 'C'] as const)
      grants[n] = await grantBusUser(adminUrl, { role: 'node', nodeId: ids[n] });
    // Each node takes its id from its Redis user (nodeIdFor): the data directories start empty.
    net = await startLocalNetwork({
      redisUrl: adminUrl,
      directoryRedisUrl: grants.directory.url,
      nodes: [
        { redisUrl: grants.A.url, uploadLimit: '4mbit' },
        { redisUrl: grants.B.url, uploadLimit: '4mbit' },
      ],
    });
    expect(net.nodes.map((n) => n.nodeId)).toEqual([ids.A, ids.B]);
    stream = await agentApi<PublishReply>(net.nodes[0], 'POST', '/api/streams', { title: 'Under attack' });
    publisher = new FlvFilePublisher({ file: sampleFlvPath(), url: stream.publishUrl });
    await publisher.start();
    const watch = await waitFor(
      () =>
        agentApi<WatchReply>(net.nodes[1], 'POST', `/api/streams/${stream.streamId}/watch`).catch(() => null),
      { timeoutMs: 30_000, intervalMs: 500, what: 'B to get a ticket from A' },
    );
    expect(watch.upstreamNodeId).toBe(ids.A);
    reader = await FlvTagReader.open(net.nodes[1].playUrls(stream.streamId).httpFlv);
    await waitFor(() => reader!.videoFrames.length > 0, { timeoutMs: 15_000, what: 'frames at B' });
    asC = busClient(ids.C, { url: grants.C.url });
    asA = busClient(ids.A, { url: grants.A.url });
    await Promise.all([asC.connect(), asA.connect()]);
    rawC = new Redis(grants.C.url, { maxRetriesPerRequest: 0 });
  }, 240_000);

  afterAll(async () => {
    reader?.close();
    rawC?.disconnect();
    await asC?.close();
    await asA?.close();
    await publisher?.stop().catch(() => undefined);
    await net?.stop();
    await redis?.stop();
  }, 60_000);

  /** The stream still reaches B: frames keep arriving after the attacks. */
  async function streamStillFlows(): Promise<void> {
    const before = reader!.videoFrames.length;
    await waitFor(() => reader!.videoFrames.length > before + 10, {
      timeoutMs: 10_000,
      what: 'B to keep receiving frames',
    });
  }

  it('holds four bus connections per node: one publisher and one subscriber each for its agent and its relay', async () => {
    const admin = new Redis(adminUrl, { maxRetriesPerRequest: 0 });
    try {
      const list = (await admin.client('LIST')) as string;
      const ofB = list.split('\n').filter((line) => line.includes(` user=${ids.B} `));
      const names = ofB.map((line) => /name=(\S*)/.exec(line)?.[1]).sort();
      expect(names).toEqual(['astral-bus-pub', 'astral-bus-pub', 'astral-bus-sub', 'astral-bus-sub']);
    } finally {
      admin.disconnect();
    }
  });

  it('refuses every command without credentials; the same command with them works', async () => {
    const anonymous = new Redis(`redis://127.0.0.1:${redis.port}`, {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      enableReadyCheck: false,
    });
    anonymous.on('error', () => undefined);
    try {
      await anonymous.connect();
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
      await expect(anonymous.publish(DirectoryPatterns.ListNodes, '{}')).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
    await expect(rawC.ping()).resolves.toBe('PONG');
    await expect(rawC.get('any-key')).rejects.toThrow(/NOPERM/);
  });

  it("Redis refuses a channel that names another sender, and any read of another node's channels", async () => {
    // Claiming to be B's relay, or B itself, on B's channels.
    await expect(
      rawC.publish(fromSender(addressed(AgentPatterns.RelayStreamEnded, ids.B), ids.B), '{}'),
    ).rejects.toThrow(/NOPERM/);
    await expect(
      rawC.publish(fromSender(addressed(RelayPatterns.SetUploadLimit, ids.B), ids.A), '{}'),
    ).rejects.toThrow(/NOPERM/);
    // Forging the answer to B's ticket request to A (an offer), or reading it (its token).
    const replyToB = `${fromSender(addressed(AgentPatterns.TicketRequest, ids.A), ids.B)}.reply`;
    await expect(rawC.publish(replyToB, '{}')).rejects.toThrow(/NOPERM/);
    const sub = new Redis(grants.C.url, { maxRetriesPerRequest: 0 });
    try {
      await expect(sub.subscribe(replyToB)).rejects.toThrow(/NOPERM/);
      await expect(sub.psubscribe('*')).rejects.toThrow(/NOPERM/);
      await expect(sub.psubscribe(`node.${ids.B}.*`)).rejects.toThrow(/NOPERM/);
      await expect(sub.psubscribe(`*@${ids.B}.reply`)).rejects.toThrow(/NOPERM/);
      // Twin: its own reply channel and its own namespace.
      await expect(
        sub.subscribe(`${fromSender(addressed(AgentPatterns.TicketRequest, ids.A), ids.C)}.reply`),
      ).resolves.toBe(1);
      await expect(sub.psubscribe(`node.${ids.C}.*`)).resolves.toBe(2);
    } finally {
      sub.disconnect();
    }
  });

  it("refuses, as itself, every command to another node's relay; the node's own agent is obeyed", async () => {
    await expect(
      request(asC, addressed(RelayPatterns.SetUploadLimit, ids.B), { uploadLimitBps: 0 }),
    ).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(
      request(asC, addressed(RelayPatterns.AuthorizePublish, ids.B), {
        streamId: stream.streamId,
        keyHash: 'a'.repeat(64),
      }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(
      request(asC, addressed(RelayPatterns.CloseUpstream, ids.B), { streamId: stream.streamId }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(request(asC, addressed(RelayPatterns.GetStats, ids.B), {})).rejects.toMatchObject({
      code: 'forbidden',
    });
    // A's credentials do not command B's relay either.
    await expect(request(asA, addressed(RelayPatterns.GetStats, ids.B), {})).rejects.toMatchObject({
      code: 'forbidden',
    });
    // Twin: A commands its own relay.
    const stats = await request(asA, addressed(RelayPatterns.GetStats, ids.A), {});
    expect(stats.streams.map((s) => s.streamId)).toContain(stream.streamId);
    await streamStillFlows();
  });

  it("drops events claiming to be another node's relay: B's stream and upstream stay", async () => {
    await emit(asC, addressed(AgentPatterns.RelayStreamEnded, ids.B), {
      nodeId: ids.B,
      streamId: stream.streamId,
      origin: 'upstream',
    });
    await emit(asC, addressed(AgentPatterns.RelayUpstreamLost, ids.B), {
      nodeId: ids.B,
      streamId: stream.streamId,
      reason: 'forged',
    });
    await emit(asC, addressed(AgentPatterns.TicketEnded, ids.B), {
      ticketId: randomUUID(),
      nodeId: ids.A,
      streamId: stream.streamId,
      reason: 'forged: A claims to end the ticket',
    });
    await sleep(1500);
    const status = await agentApi<{ streams: { streamId: string; upstreamNodeId: string | null }[] }>(
      net.nodes[1],
      'GET',
      '/api/status',
    );
    expect(status.streams.find((s) => s.streamId === stream.streamId)?.upstreamNodeId).toBe(ids.A);
    await streamStillFlows();
    const log = readFileSync(net.nodes[1].logFile, 'utf8');
    expect(log).toMatch(/redis message refused.*may not send this/);
  });

  it('refuses ticket messages that name another requester', async () => {
    await expect(
      request(asC, addressed(AgentPatterns.TicketRequest, ids.A), {
        streamId: stream.streamId,
        requesterId: ids.B,
      }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(
      request(asC, addressed(AgentPatterns.TicketConfirm, ids.A), {
        ticketId: randomUUID(),
        requesterId: ids.B,
      }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    // Twin: C may ask as itself, and gets A's own answer (C is not registered: A refuses it).
    await expect(
      request(asC, addressed(AgentPatterns.TicketRequest, ids.A), {
        streamId: stream.streamId,
        requesterId: ids.C,
      }),
    ).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/not registered/) as unknown,
    });
  });

  it("refuses directory changes to another node's records; a node changes its own", async () => {
    await expect(request(asC, DirectoryPatterns.UnregisterNode, { nodeId: ids.B })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(
      request(asC, DirectoryPatterns.PromoteSupernode, { nodeId: ids.B, maxChildren: 1 }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(request(asC, DirectoryPatterns.DemoteSupernode, { nodeId: ids.B })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(
      request(asC, DirectoryPatterns.EndStream, { streamId: stream.streamId, nodeId: ids.A }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    // As itself, C is still not the stream's source.
    await expect(
      request(asC, DirectoryPatterns.EndStream, { streamId: stream.streamId, nodeId: ids.C }),
    ).rejects.toMatchObject({ status: 403 });
    // Registering over B's id: as C refused by the sender check; even with B's id, C's key is not B's.
    const takeover = registerNodeRequest({ nodeId: ids.B, host: '127.0.0.66' });
    await expect(request(asC, DirectoryPatterns.RegisterNode, takeover)).rejects.toMatchObject({
      code: 'forbidden',
    });
    const asB = busClient(ids.B, { url: grants.B.url });
    try {
      await expect(
        request(asB, DirectoryPatterns.RegisterNode, {
          ...takeover,
          publicKey: generateNodeKeys().publicKey,
        }),
      ).rejects.toMatchObject({ status: 409 });
    } finally {
      await asB.close();
    }
    const nodes: NodeInfo[] = await request(asC, DirectoryPatterns.ListNodes, {});
    const b = nodes.find((n) => n.nodeId === ids.B);
    expect(b?.host).toBe('127.0.0.1');
    expect(b?.forwardPort).toBe(net.nodes[1].ports.forward);
    // Twin: C registers itself.
    const own = registerNodeRequest({ nodeId: ids.C, publicKey: keysC.publicKey });
    await expect(request(asC, DirectoryPatterns.RegisterNode, own)).resolves.toMatchObject({
      node: { nodeId: ids.C },
    });
    await expect(request(asC, DirectoryPatterns.UnregisterNode, { nodeId: ids.C })).resolves.toEqual({
      removed: true,
    });
    await streamStillFlows();
  });

  it("refuses an offer naming an address that is not the offering node's, and takes an honest one", async () => {
    // C registers as itself and claims to carry the stream one hop below A, so B asks it first.
    const cForwardPort = await freePort();
    await request(
      asC,
      DirectoryPatterns.RegisterNode,
      registerNodeRequest({ nodeId: ids.C, forwardPort: cForwardPort, publicKey: keysC.publicKey }),
    );
    await emit(asC, DirectoryPatterns.Carrying, {
      streamId: stream.streamId,
      nodeId: ids.C,
      hops: 1,
      carrying: true,
    });
    // C's agent, as an attacker writes it: every offer names an address that C is not listed at.
    const seen = { requests: 0, confirms: 0 };
    const fakeC = new NodeAddressedRedisServer(ids.C, redisTransport({ url: grants.C.url }).options);
    fakeC.addHandler(AgentPatterns.TicketRequest, (req: { streamId: string }) => {
      seen.requests += 1;
      return Promise.resolve({
        offer: {
          ticketId: randomUUID(),
          streamId: req.streamId,
          nodeId: ids.C,
          hops: 2,
          path: [ids.A, ids.C],
          headroomBps: null,
          expiresAt: Date.now() + 5000,
          host: '127.0.0.66',
          forwardPort: cForwardPort,
          bitrateBps: 1_000_000,
        },
      });
    });
    fakeC.addHandler(AgentPatterns.TicketConfirm, () => {
      seen.confirms += 1;
      return Promise.reject(new Error('never confirmed'));
    });
    await new Promise<void>((resolve, reject) =>
      fakeC.listen((err?: unknown) => (err instanceof Error ? reject(err) : resolve())),
    );
    try {
      const b = net.nodes[1];
      await agentApi(b, 'DELETE', `/api/streams/${stream.streamId}/watch`);
      const watch = await waitFor(
        () => agentApi<WatchReply>(b, 'POST', `/api/streams/${stream.streamId}/watch`).catch(() => null),
        { timeoutMs: 30_000, intervalMs: 500, what: 'B to get a ticket again' },
      );
      expect(seen.requests).toBeGreaterThan(0);
      expect(seen.confirms).toBe(0);
      expect(watch.upstreamNodeId).toBe(ids.A);
      expect(readFileSync(b.logFile, 'utf8')).toMatch(/not the node's listed address/);
      reader?.close();
      reader = await FlvTagReader.open(b.playUrls(stream.streamId).httpFlv);
      await streamStillFlows();
    } finally {
      await fakeC.close();
      await request(asC, DirectoryPatterns.UnregisterNode, { nodeId: ids.C }).catch(() => undefined);
    }
  });

  it('lets the source node, and only it, end its stream', async () => {
    const ended = await request(asA, DirectoryPatterns.EndStream, {
      streamId: stream.streamId,
      nodeId: ids.A,
    });
    expect(ended.status).toBe('ended');
  });
});
