import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AstralErrorBody, NodeInfo, NodeSignatureHeaders, StreamInfo } from '@astral/contracts';
import { signedRequestHeaders } from '@astral/identity';
import {
  DirectoryCaller,
  RedisHandle,
  TestNode,
  directoryFetch,
  freePort,
  newOperatorToken,
  sleep,
  startRedis,
  testNode,
} from '@astral/testing';
import { RunningDirectory, startDirectory } from '../apps/directory/src/main';

/**
 * Who may change what in the directory over HTTP (docs/security/directory.md), against a real directory: every
 * refusal next to the legitimate call it must not be confused with.
 */
describe('directory HTTP credentials and rate limits', () => {
  const cleanups: (() => unknown)[] = [];
  let redis: RedisHandle;
  const operatorToken = newOperatorToken();
  const operator = { operatorToken };

  /** A directory on its own data directory, sharing the suite's Redis. */
  const start = async (env: NodeJS.ProcessEnv): Promise<RunningDirectory> => {
    const tmp = mkdtempSync(join(tmpdir(), 'astral-dir-auth-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    const directory = await startDirectory({
      ASTRAL_DIRECTORY_PORT: String(await freePort()),
      REDIS_URL: redis.url,
      ASTRAL_DATA_DIR: tmp,
      ASTRAL_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
      ASTRAL_HEARTBEAT_MS: '10000',
      ...env,
    });
    cleanups.push(() => directory.close());
    return directory;
  };

  let url: string;
  const call = (method: string, path: string, body?: unknown, as?: DirectoryCaller): Promise<Response> =>
    directoryFetch(url, method, path, body, as);
  const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
  const node = async (id: string): Promise<NodeInfo | undefined> =>
    (await json<NodeInfo[]>(call('GET', '/api/nodes'))).find((n) => n.nodeId === id);
  const stream = (id: string): Promise<StreamInfo> => json<StreamInfo>(call('GET', `/api/streams/${id}`));

  const a = testNode({ host: '10.20.0.1' });
  const b = testNode({ host: '10.20.0.2' });
  let streamOfA: string;
  let streamOfB: string;

  /** Registers `n` signed as itself and starts a live stream at it. */
  const join_ = async (n: TestNode): Promise<string> => {
    expect((await call('POST', '/api/nodes', n.request, n)).status).toBe(200);
    const created = await json<StreamInfo>(
      call('POST', '/api/streams', { sourceNodeId: n.nodeId, title: `show of ${n.request.host}` }, n),
    );
    const live = await call('POST', `/api/streams/${created.streamId}/announce`, { nodeId: n.nodeId }, n);
    expect(live.status).toBe(200);
    return created.streamId;
  };

  beforeAll(async () => {
    redis = await startRedis();
    cleanups.push(() => redis.stop());
    url = (await start({ ASTRAL_OPERATOR_TOKEN: operatorToken, ASTRAL_HTTP_WRITES_PER_S: '1000' })).httpUrl;
    streamOfA = await join_(a);
    streamOfB = await join_(b);
  }, 60_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 60_000);

  it('refuses every mutating route without credentials (401, saying how to sign) and changes nothing', async () => {
    const before = { a: await node(a.nodeId), stream: await stream(streamOfA) };
    const c = testNode();
    for (const [method, path, body] of [
      ['POST', '/api/nodes', { ...a.request, host: '10.66.6.6' }],
      ['POST', '/api/nodes', c.request],
      ['POST', `/api/nodes/${a.nodeId}/heartbeat`, {}],
      ['DELETE', `/api/nodes/${a.nodeId}`, undefined],
      ['POST', `/api/nodes/${a.nodeId}/supernode`, { maxChildren: 5 }],
      ['DELETE', `/api/nodes/${a.nodeId}/supernode`, undefined],
      ['POST', '/api/streams', { sourceNodeId: a.nodeId, title: 'not mine' }],
      ['POST', `/api/streams/${streamOfA}/announce`, { nodeId: a.nodeId, bitrateBps: 1 }],
      ['POST', `/api/streams/${streamOfA}/end`, undefined],
    ] as const) {
      const res = await call(method, path, body);
      const refusal = await json<AstralErrorBody>(res);
      expect([method, path, res.status, refusal.error]).toEqual([method, path, 401, 'unauthorized']);
      expect(refusal.message).toContain('X-Astral-Signature');
    }
    expect(await node(a.nodeId)).toEqual(before.a);
    expect(await node(c.nodeId)).toBeUndefined();
    expect(await stream(streamOfA)).toEqual(before.stream);
  });

  it("lets node A change its own records, and refuses (403) A acting on B's", async () => {
    const forbidden = async (res: Promise<Response>): Promise<void> => {
      const r = await res;
      expect([r.status, (await json<AstralErrorBody>(r)).error]).toEqual([403, 'forbidden']);
    };
    expect((await call('POST', `/api/nodes/${a.nodeId}/heartbeat`, { forwards: 1 }, a)).status).toBe(204);
    await forbidden(call('POST', `/api/nodes/${b.nodeId}/heartbeat`, {}, a));

    expect(await json(call('POST', `/api/nodes/${a.nodeId}/supernode`, { maxChildren: 4 }, a))).toMatchObject(
      {
        supernode: true,
        maxChildren: 4,
      },
    );
    await forbidden(call('POST', `/api/nodes/${b.nodeId}/supernode`, { maxChildren: 4 }, a));
    expect(await json(call('DELETE', `/api/nodes/${a.nodeId}/supernode`, undefined, a))).toMatchObject({
      supernode: false,
    });
    await forbidden(call('DELETE', `/api/nodes/${b.nodeId}/supernode`, undefined, a));

    await forbidden(call('POST', '/api/streams', { sourceNodeId: b.nodeId, title: 'as B' }, a));
    await forbidden(call('POST', `/api/streams/${streamOfB}/announce`, { nodeId: b.nodeId }, a));
    // Announcing as itself, A is still not the source of B's stream.
    await forbidden(call('POST', `/api/streams/${streamOfB}/announce`, { nodeId: a.nodeId }, a));
    await forbidden(call('POST', `/api/streams/${streamOfB}/end`, undefined, a));
    await forbidden(call('DELETE', `/api/nodes/${b.nodeId}`, undefined, a));
    expect(await node(b.nodeId)).toMatchObject({ host: '10.20.0.2', supernode: false });
    expect((await stream(streamOfB)).status).toBe('live');

    const mine = await json<StreamInfo>(
      call('POST', '/api/streams', { sourceNodeId: a.nodeId, title: 'A2' }, a),
    );
    expect(mine.sourceNodeId).toBe(a.nodeId);
    expect(await json(call('POST', `/api/streams/${mine.streamId}/end`, undefined, a))).toMatchObject({
      status: 'ended',
    });
  });

  it('refuses a signature by another key than the claimed node’s, and one from a node with no key (401)', async () => {
    const path = `/api/nodes/${b.nodeId}/heartbeat`;
    const asB = { nodeId: b.nodeId, keys: a.keys };
    const res = await call('POST', path, {}, asB);
    expect(res.status).toBe(401);
    expect((await json<AstralErrorBody>(res)).message).toMatch(/not node .* signature of this request/);
    const stranger = testNode();
    const unknown = await call('POST', `/api/nodes/${stranger.nodeId}/heartbeat`, {}, stranger);
    expect(unknown.status).toBe(401);
    expect((await json<AstralErrorBody>(unknown)).message).toMatch(/has no recorded key: it must register/);
    expect((await call('POST', path, {}, b)).status).toBe(204);
  });

  it("refuses registering A's id with another key (409, address unchanged); the same key re-registers", async () => {
    const impostor = testNode({ nodeId: a.nodeId, host: '10.66.6.6' });
    const res = await call('POST', '/api/nodes', impostor.request, impostor);
    expect(res.status).toBe(409);
    expect((await json<AstralErrorBody>(res)).message).toBe(
      `node ${a.nodeId} is registered with another key; a node's id cannot move to another key — delete the node's data directory to get a new id`,
    );
    expect(await node(a.nodeId)).toMatchObject({ host: '10.20.0.1', publicKey: a.keys.publicKey });
    // Nor can the operator move an id to another key.
    expect((await call('POST', '/api/nodes', impostor.request, operator)).status).toBe(409);

    const again = await call('POST', '/api/nodes', { ...a.request, rtmpPort: 1940 }, a);
    expect(again.status).toBe(200);
    expect(await node(a.nodeId)).toMatchObject({ host: '10.20.0.1', rtmpPort: 1940 });
  });

  it('refuses a replayed, a stale and a tampered signed request (401); a fresh one passes', async () => {
    const path = `/api/nodes/${a.nodeId}/heartbeat`;
    const body = JSON.stringify({ forwards: 2 });
    const send = (headers: Record<string, string>, text = body): Promise<Response> =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: text,
      });

    const signed = signedRequestHeaders(a, 'POST', path, body);
    expect((await send(signed)).status).toBe(204);
    const replayed = await send(signed);
    expect(replayed.status).toBe(401);
    expect((await json<AstralErrorBody>(replayed)).message).toMatch(/already received/);

    const stale = await send(signedRequestHeaders(a, 'POST', path, body, Date.now() - 60_000));
    expect(stale.status).toBe(401);
    expect((await json<AstralErrorBody>(stale)).message).toMatch(/clock/);

    const tampered = await send(signedRequestHeaders(a, 'POST', path, body), JSON.stringify({ forwards: 3 }));
    expect(tampered.status).toBe(401);
    const partial = await send({ [NodeSignatureHeaders.node]: a.nodeId });
    expect(partial.status).toBe(401);
    expect((await json<AstralErrorBody>(partial)).message).toMatch(/incomplete/);

    expect((await send(signedRequestHeaders(a, 'POST', path, body))).status).toBe(204);
  });

  it('lets the operator token do everything; a wrong or malformed token is refused (401) and changes nothing', async () => {
    for (const wrong of [{ operatorToken: `${operatorToken}x` }, { operatorToken: newOperatorToken() }]) {
      const res = await call('POST', `/api/nodes/${b.nodeId}/supernode`, { maxChildren: 9 }, wrong);
      expect([res.status, (await json<AstralErrorBody>(res)).message]).toEqual([401, 'wrong operator token']);
    }
    const basic = await fetch(`${url}/api/nodes/${b.nodeId}`, {
      method: 'DELETE',
      headers: { authorization: 'Basic b3BlcmF0b3I6cGFzcw==' },
    });
    expect(basic.status).toBe(401);
    expect(await node(b.nodeId)).toMatchObject({ supernode: false });

    expect((await call('POST', `/api/nodes/${b.nodeId}/heartbeat`, {}, operator)).status).toBe(204);
    expect(
      await json(call('POST', `/api/nodes/${b.nodeId}/supernode`, { maxChildren: 9 }, operator)),
    ).toMatchObject({
      supernode: true,
      maxChildren: 9,
    });
    expect(await json(call('DELETE', `/api/nodes/${b.nodeId}/supernode`, undefined, operator))).toMatchObject(
      {
        supernode: false,
      },
    );
    const forB = await json<StreamInfo>(
      call('POST', '/api/streams', { sourceNodeId: b.nodeId, title: 'op' }, operator),
    );
    expect(forB.sourceNodeId).toBe(b.nodeId);
    expect(
      (await call('POST', `/api/streams/${forB.streamId}/announce`, { nodeId: b.nodeId }, operator)).status,
    ).toBe(200);
    expect(await json(call('POST', `/api/streams/${streamOfB}/end`, undefined, operator))).toMatchObject({
      status: 'ended',
    });
    const c = testNode();
    expect((await call('POST', '/api/nodes', c.request, operator)).status).toBe(200);
    expect(await json(call('DELETE', `/api/nodes/${c.nodeId}`, undefined, operator))).toEqual({
      removed: true,
    });
    expect(await json(call('DELETE', `/api/nodes/${b.nodeId}`, undefined, b))).toEqual({ removed: true });
    expect(await node(b.nodeId)).toBeUndefined();
  });

  describe('without an operator token, with tight rate limits', () => {
    let limited: string;
    const n = testNode();

    beforeAll(async () => {
      limited = (await start({ ASTRAL_HTTP_READS_PER_S: '5', ASTRAL_HTTP_WRITES_PER_S: '3' })).httpUrl;
      await sleep(1100);
    }, 60_000);

    it('answers a bearer token with 403 saying how to turn operator access on; nodes still sign', async () => {
      const res = await directoryFetch(limited, 'POST', '/api/nodes', n.request, operator);
      expect(res.status).toBe(403);
      expect((await json<AstralErrorBody>(res)).message).toMatch(/no ASTRAL_OPERATOR_TOKEN; set one/);
      expect((await directoryFetch(limited, 'POST', '/api/nodes', n.request, n)).status).toBe(200);
      await sleep(1100);
    });

    it('answers 429 with Retry-After past the burst, keeps probes answering, and serves again after the window', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await fetch(`${limited}/api/streams`)).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      const refused = await fetch(`${limited}/api/nodes`);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect((await json<AstralErrorBody>(refused)).message).toMatch(/too many reads .* retry after/);
      // The HTML pages share the reads budget; the probes do not.
      expect((await fetch(`${limited}/`)).status).toBe(429);
      for (const probe of ['/healthz', '/readyz', '/metrics']) {
        expect([probe, (await fetch(`${limited}${probe}`)).status]).toEqual([probe, 200]);
      }

      // Writes have their own budget: reads used up do not stop a node's heartbeat.
      const beat = (): Promise<Response> =>
        directoryFetch(limited, 'POST', `/api/nodes/${n.nodeId}/heartbeat`, {}, n);
      const beats: number[] = [];
      for (let i = 0; i < 4; i++) beats.push((await beat()).status);
      expect(beats).toEqual([204, 204, 204, 429]);

      await sleep(retryAfter * 1000 + 100);
      expect((await fetch(`${limited}/api/streams`)).status).toBe(200);
      expect((await beat()).status).toBe(204);
    });
  });

  it('refuses to start with an operator token shorter than 32 characters, without printing it', async () => {
    const err = (await start({ ASTRAL_OPERATOR_TOKEN: 'short-secret' }).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/ASTRAL_OPERATOR_TOKEN=\(hidden\): must be at least 32 characters/);
    expect(err.message).not.toContain('short-secret');
  });
});
