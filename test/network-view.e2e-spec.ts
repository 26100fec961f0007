import type { NetworkSocketMessage, StreamInfo } from '@astral/contracts';
import { NETWORK_SOCKET_PATH } from '@astral/contracts';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BrowserContext, Page, chromium } from 'playwright-core';
import WebSocket from 'ws';
import { ClientProxy } from '@nestjs/microservices';
import { DirectoryClient, claimingBusClient } from '@astral/transport';
import {
  CHROMIUM_OFFLINE_ARGS,
  CHROMIUM_PATH,
  LocalNetwork,
  ManagedProcess,
  TestNode,
  directoryFetch,
  makeTempDir,
  removeTempDir,
  repoRoot,
  spawnAstral,
  startLocalNetwork,
  testNode,
  waitFor,
} from '@astral/testing';

/** What the test reads of the page's window.astralNetwork (the test compiles without the DOM library). */
interface ViewState {
  connected: boolean;
  status: string;
  reconnects: number;
  updates: number;
  counts: {
    nodes: number;
    supernodes: number;
    streams: number;
    forwards: number;
    memberships: number;
  } | null;
  drawn: { nodes: number; supernodes: number; streams: number; forwards: number; memberships: number };
}

/** The little of cytoscape's API the test reads (it runs in the page; the test has no DOM types). */
interface Cy {
  nodes(selector: string): { length: number };
  edges(selector: string): { length: number; map<T>(f: (e: { data(key: string): string }) => T): T[] };
}
type ViewWindow = { astralNetwork: ViewState & { cy: Cy } };

const SCREENSHOT = join(repoRoot(), '.astral', 'test-output', 'network-view.png');

/**
 * The live network view: a real directory process, fed by four nodes that register and heartbeat over its signed
 * HTTP API the way agents do (a source S that is the supernode, viewers A and B pulling from S, C pulling from
 * A), and a real Chromium on GET /network. The page draws what the directory's WebSocket pushes; it follows a
 * node leaving without a reload; a hostile socket sending garbage is closed while the page keeps receiving.
 */
describe('network view', () => {
  let net: LocalNetwork | undefined;
  let browser: BrowserContext | undefined;
  let profileDir: string | undefined;
  let beats: NodeJS.Timeout | undefined;
  let bus: ClientProxy | undefined;
  /** The directory started again by the reconnect test (LocalNetwork.stop() stops only the first). */
  let restarted: ManagedProcess | undefined;
  const sockets: WebSocket[] = [];
  const [s, a, b, c] = [testNode(), testNode(), testNode(), testNode()];
  const alive = new Set<TestNode>([s, a, b, c]);
  let stream: StreamInfo;

  const call = async (as: TestNode, method: string, path: string, body?: unknown): Promise<Response> => {
    const res = await directoryFetch(net!.directoryUrl, method, path, body, as);
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
    return res;
  };

  /** Each node's heartbeat: its supernode, its upload, and for the stream it carries its upstream. */
  const heartbeat = (n: TestNode): Promise<Response> => {
    const upstream = n === a || n === b ? s : n === c ? a : undefined;
    const forwards = n === s ? 2 : n === a ? 1 : 0;
    return call(n, 'POST', `/api/nodes/${n.nodeId}/heartbeat`, {
      forwards,
      ...(n !== s && { supernodeId: s.nodeId }),
      ...(n === s && { childCount: 3 }),
      uploadBps: forwards * 500_000,
      committedBps: forwards * 500_000,
      players: 0,
      streams: [
        {
          streamId: stream.streamId,
          hops: n === s ? 0 : n === c ? 2 : 1,
          ...(upstream && { upstreamNodeId: upstream.nodeId }),
          players: 0,
          localPlayers: 0,
          forwards,
          bitrateBps: 500_000,
        },
      ],
    });
  };
  const heartbeatAll = () => Promise.all([...alive].map(heartbeat));

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `chromium is not installed at ${CHROMIUM_PATH}: run \`apt-get install -y chromium\` (Debian) or set ASTRAL_CHROMIUM`,
      );
    }
    // Four nodes behind one test address: above the default 10 writes a second at start-up.
    net = await startLocalNetwork({ nodes: [], heartbeatMs: 2000, env: { ASTRAL_HTTP_WRITES_PER_S: '100' } });
    for (const n of [s, a, b, c])
      await call(n, 'POST', '/api/nodes', { ...n.request, uploadLimitBps: 2_000_000 });
    await call(s, 'POST', `/api/nodes/${s.nodeId}/supernode`, { maxChildren: 10 });
    stream = (await (
      await call(s, 'POST', '/api/streams', { sourceNodeId: s.nodeId, title: 'Network view test' })
    ).json()) as StreamInfo;
    await call(s, 'POST', `/api/streams/${stream.streamId}/announce`, {
      nodeId: s.nodeId,
      bitrateBps: 500_000,
    });
    // Carrying reports are bus events, as the agents send them; the heartbeats then say who each pulls from.
    bus = claimingBusClient({ url: net.redisUrl });
    await bus.connect();
    const directory = new DirectoryClient(bus, 5000);
    for (const [n, hops] of [
      [a, 1],
      [b, 1],
      [c, 2],
    ] as const) {
      await directory.carrying({ streamId: stream.streamId, nodeId: n.nodeId, hops, carrying: true });
    }
    await heartbeatAll();
    beats = setInterval(() => void heartbeatAll().catch(() => undefined), 1000);

    profileDir = makeTempDir('astral-chromium-');
    browser = await chromium.launchPersistentContext(join(profileDir, 'profile'), {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_OFFLINE_ARGS,
      viewport: { width: 1200, height: 900 },
      timeout: 30_000,
    });
  }, 200_000);

  afterAll(async () => {
    clearInterval(beats);
    for (const ws of sockets) ws.terminate();
    await browser?.close().catch(() => undefined);
    await bus?.close();
    await restarted?.stop('SIGTERM', 10_000);
    if (profileDir) removeTempDir(profileDir);
    await net?.stop();
  }, 60_000);

  /** The page's view: what its script counted, and what the cytoscape instance holds, by class. */
  const viewOf = (page: Page): Promise<ViewState> =>
    page.evaluate(() => {
      const v = (globalThis as unknown as ViewWindow).astralNetwork;
      const status = (
        globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }
      ).document.getElementById('network-status').textContent;
      const cy = v.cy;
      return {
        connected: v.connected,
        status,
        reconnects: v.reconnects,
        updates: v.updates,
        counts: v.counts,
        drawn: {
          nodes: cy.nodes('.node').length,
          supernodes: cy.nodes('.supernode').length,
          streams: cy.nodes('.stream').length,
          forwards: cy.edges('.forward').length,
          memberships: cy.edges('.membership').length,
        },
      };
    });
  const textCount = (page: Page, what: string) =>
    page.locator(`#network-counts [data-count="${what}"]`).textContent();

  const expectPicture = async (page: Page, want: ViewState['drawn']): Promise<void> => {
    await waitFor(
      async () => {
        const v = await viewOf(page);
        return (
          JSON.stringify(v.drawn) === JSON.stringify(want) &&
          JSON.stringify(v.counts) === JSON.stringify(want)
        );
      },
      {
        timeoutMs: 20_000,
        intervalMs: 250,
        what: `the page to draw ${JSON.stringify(want)} (it has ${JSON.stringify(await viewOf(page))})`,
      },
    );
    for (const [what, n] of Object.entries(want)) expect(await textCount(page, what)).toBe(String(n));
  };

  it('draws the tree, follows a node leaving, and writes a screenshot', async () => {
    const page = await browser!.newPage();
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
    try {
      await page.goto(`${net!.directoryUrl}/network`);
      expect(await page.locator('nav a[href="/network"]').count()).toBe(1);
      // S (supernode), A, B, C; the stream; forwards S→A, S→B, A→C; A, B, C members of S.
      await expectPicture(page, { nodes: 4, supernodes: 1, streams: 1, forwards: 3, memberships: 3 });
      const edges = await page.evaluate(() =>
        (globalThis as unknown as ViewWindow).astralNetwork.cy
          .edges('.forward')
          .map((e) => `${e.data('source')}>${e.data('target')}`)
          .sort(),
      );
      expect(edges).toEqual(
        [`n:${s.nodeId}>n:${a.nodeId}`, `n:${s.nodeId}>n:${b.nodeId}`, `n:${a.nodeId}>n:${c.nodeId}`].sort(),
      );
      expect(await page.locator('#network-status').getAttribute('data-state')).toBe('live');
      mkdirSync(join(repoRoot(), '.astral', 'test-output'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);

      // C leaves: the page follows without a reload.
      const before = (await viewOf(page)).updates;
      alive.delete(c);
      const left = Date.now();
      await call(c, 'DELETE', `/api/nodes/${c.nodeId}`);
      await expectPicture(page, { nodes: 3, supernodes: 1, streams: 1, forwards: 2, memberships: 2 });
      expect((await viewOf(page)).updates).toBeGreaterThan(before);
      // A figure for the report, not a bound: from the unregister to the page's new picture (polled every 250 ms).
      console.log(`network view: a node's departure drawn ${Date.now() - left} ms after its unregister`);
    } catch (err) {
      if (err instanceof Error)
        err.message += `\nbrowser console:\n${consoleLines.join('\n')}\n${net!.logs()}`;
      throw err;
    } finally {
      await page.close();
    }
  }, 120_000);

  it('closes a client that sends garbage; the page and a polite client keep receiving', async () => {
    const page = await browser!.newPage();
    await page.goto(`${net!.directoryUrl}/network`);
    await expectPicture(page, { nodes: 3, supernodes: 1, streams: 1, forwards: 2, memberships: 2 });
    const url = `${net!.directoryUrl.replace(/^http/, 'ws')}${NETWORK_SOCKET_PATH}`;
    const open = (): Promise<{
      ws: WebSocket;
      messages: NetworkSocketMessage[];
      closed: Promise<[number, string]>;
    }> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        sockets.push(ws);
        const messages: NetworkSocketMessage[] = [];
        const closed = new Promise<[number, string]>((done) =>
          ws.on('close', (code, reason) => done([code, reason.toString()])),
        );
        ws.on('message', (data: Buffer) =>
          messages.push(JSON.parse(data.toString()) as NetworkSocketMessage),
        );
        ws.once('open', () => resolve({ ws, messages, closed }));
        ws.once('error', reject);
      });
    const polite = await open();
    const hostile = await open();
    const large = await open();
    const firstSnapshot = (m: NetworkSocketMessage[]) => m.some((x) => x.type === 'snapshot');
    await waitFor(() => firstSnapshot(polite.messages) && firstSnapshot(hostile.messages), {
      timeoutMs: 10_000,
      what: 'a snapshot on connect for both clients',
    });

    // A polite resync is answered with the full snapshot again, and the client stays.
    const count = polite.messages.length;
    polite.ws.send(JSON.stringify({ type: 'resync' }));
    await waitFor(() => polite.messages.length > count, { timeoutMs: 10_000, what: 'the resync answer' });

    hostile.ws.send('{"type":"promote","nodeId":"garbage"');
    expect(await hostile.closed).toEqual([1008, expect.stringMatching(/not JSON/)]);
    large.ws.send(JSON.stringify({ type: 'resync', pad: 'x'.repeat(4096) }));
    expect((await large.closed)[0]).toBe(1009);
    await waitFor(
      () => net!.directory.readLog(200_000).includes('network view client closed for a bad message'),
      {
        timeoutMs: 10_000,
        what: 'the refusal in the directory log',
      },
    );

    // The legitimate clients keep receiving: B leaves, both see it.
    const seen = polite.messages.length;
    alive.delete(b);
    await call(b, 'DELETE', `/api/nodes/${b.nodeId}`);
    await expectPicture(page, { nodes: 2, supernodes: 1, streams: 1, forwards: 1, memberships: 1 });
    await waitFor(() => polite.messages.length > seen, {
      timeoutMs: 10_000,
      what: 'the change on the polite socket',
    });
    expect(polite.ws.readyState).toBe(WebSocket.OPEN);
    expect((await viewOf(page)).connected).toBe(true);
    polite.ws.close();
    await page.close();
  }, 120_000);

  it('refuses a socket above the per-address cap with 503 and a reason, and admits one when a slot frees', async () => {
    const url = `${net!.directoryUrl.replace(/^http/, 'ws')}${NETWORK_SOCKET_PATH}`;
    const attempt = (): Promise<{ ws?: WebSocket; status?: number; body?: string }> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url);
        sockets.push(ws);
        ws.once('open', () => resolve({ ws }));
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode, body }));
        });
        ws.once('error', () => resolve({}));
      });
    const admitted: WebSocket[] = [];
    // 16 per address by default; this suite's earlier sockets from 127.0.0.1 may still count, so fill up to the cap.
    let refused: { status?: number; body?: string } | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const r = await attempt();
      if (r.ws) admitted.push(r.ws);
      else refused = r;
    }
    expect(refused?.status).toBe(503);
    expect(JSON.parse(refused!.body!)).toMatchObject({
      status: 503,
      error: 'unavailable',
      message: /your address has 16/,
    });
    // The twin: one closes, the next is admitted.
    const one = admitted.pop()!;
    one.close();
    await waitFor(
      async () => {
        const r = await attempt();
        if (r.ws) admitted.push(r.ws);
        return r.ws !== undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'a socket admitted once a slot freed' },
    );
    for (const ws of admitted) ws.terminate();
  }, 60_000);

  it('reconnects when the directory restarts, and draws what changed meanwhile', async () => {
    const page = await browser!.newPage();
    await page.goto(`${net!.directoryUrl}/network`);
    await expectPicture(page, { nodes: 2, supernodes: 1, streams: 1, forwards: 1, memberships: 1 });
    await net!.directory.stop('SIGTERM', 10_000);
    await waitFor(async () => !(await viewOf(page)).connected, {
      timeoutMs: 10_000,
      what: 'the page to notice',
    });
    expect(await page.locator('#network-status').getAttribute('data-state')).toBe('down');
    expect(await page.locator('#network-status').textContent()).toContain('reconnecting');

    const url = new URL(net!.directoryUrl);
    restarted = spawnAstral(
      'directory',
      [
        'directory',
        '--port',
        url.port,
        '--host',
        url.hostname,
        '--data-dir',
        join(net!.dataRoot, 'directory'),
      ].concat(['--redis', net!.redisUrl, '--log-level', 'info', '--heartbeat-ms', '2000']),
      {
        env: { ...process.env, ASTRAL_OPERATOR_TOKEN: net!.operatorToken, ASTRAL_HTTP_WRITES_PER_S: '100' },
        logFile: join(net!.logDir, 'directory-restarted.log'),
      },
    );
    // A leaves while the page reconnects: the page draws the picture of the directory it reaches.
    await waitFor(
      async () =>
        (await directoryFetch(net!.directoryUrl, 'GET', '/healthz').catch(() => undefined))?.ok === true,
      { timeoutMs: 60_000, intervalMs: 250, what: 'the restarted directory' },
    );
    alive.delete(a);
    await call(a, 'DELETE', `/api/nodes/${a.nodeId}`);
    await expectPicture(page, { nodes: 1, supernodes: 1, streams: 1, forwards: 0, memberships: 0 });
    const v = await viewOf(page);
    expect(v.connected).toBe(true);
    expect(v.reconnects).toBeGreaterThanOrEqual(1);
    expect(v.status).toContain('Live');
    await page.close();
  }, 120_000);
});
