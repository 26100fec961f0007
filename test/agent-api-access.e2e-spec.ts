import type {
  AstralErrorBody,
  ListedStream,
  NodeSettings,
  PublishReply,
  StreamInfo,
} from '@astral/contracts';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { Server, createServer, request } from 'node:http';
import { join } from 'node:path';
import { BrowserContext, chromium } from 'playwright-core';
import { FlvFilePublisher } from '@astral/media';
import {
  CHROMIUM_OFFLINE_ARGS,
  CHROMIUM_PATH,
  LocalNetwork,
  LocalNode,
  agentApi,
  astralBin,
  httpJson,
  makeTempDir,
  removeTempDir,
  sampleFlvPath,
  startLocalNetwork,
  waitFor,
  withLogsOnFailure,
} from '@astral/testing';

const CHROMIUM = CHROMIUM_PATH;
const CHROMIUM_ARGS = [
  '--headless',
  ...CHROMIUM_OFFLINE_ARGS,
  // A name that resolves to loopback in this browser only: what a DNS-rebound attacker name does.
  '--host-resolver-rules=MAP rebind.example 127.0.0.1',
];

/** A raw request with any Host and Origin (fetch may not set Host): the status and body it gets. */
function rawRequest(
  port: number,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<{ status: number; body: string; upgraded: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, timeout: 5000 });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, upgraded: false }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '', upgraded: true });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

const upgradeHeaders = (host: string, origin?: string): Record<string, string> => ({
  host,
  connection: 'Upgrade',
  upgrade: 'websocket',
  'sec-websocket-version': '13',
  'sec-websocket-key': randomBytes(16).toString('base64'),
  ...(origin && { origin }),
});

function astral(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [astralBin(), ...args], { timeout: 40_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * No web page can drive a viewer's node (issue 13): a page of another origin posts a form to
 * /api/leave and a no-cors fetch to the watch route in real Chromium, and the node neither leaves nor
 * watches; a foreign Host header gets 421, a missing or wrong token 401. Their twins: the CLI and a
 * bearer token work, a page of the directory's origin with X-Astral-Control: 1 makes the node watch,
 * a loopback status read needs no token.
 */
describe('agent API access', () => {
  let net: LocalNetwork;
  let attacker: Server;
  let attackerOrigin = '';
  let browser: BrowserContext | undefined;
  let profileDir: string | undefined;
  let publisher: FlvFilePublisher | undefined;
  let stream: PublishReply;
  let victim: LocalNode;

  const log = (): string => readFileSync(victim.logFile, 'utf8');
  const step = (fn: () => Promise<void>): Promise<void> => withLogsOnFailure(() => net.logs(4000), fn);

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` or set ASTRAL_CHROMIUM`,
      );
    }
    net = await startLocalNetwork({ nodes: [{}, {}] });
    victim = net.nodes[1];
    stream = await agentApi<PublishReply>(net.nodes[0], 'POST', '/api/streams', { title: 'Access test' });
    publisher = new FlvFilePublisher({ file: sampleFlvPath(), url: stream.publishUrl });
    await publisher.start();
    await waitFor(
      async () =>
        (await httpJson<StreamInfo>('GET', `${net.directoryUrl}/api/streams/${stream.streamId}`)).status ===
        'live',
      { timeoutMs: 20_000, intervalMs: 250, what: 'the stream to be live' },
    );
    // The attacker's page: another origin (another port), with a text/plain form to /api/leave and
    // a no-cors POST to the watch route, both "simple" requests that no preflight guards.
    attacker = createServer((req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>attacker</title>
<form id="leave" method="POST" action="${victim.apiUrl}/api/leave" enctype="text/plain">
  <input name="x" value="y">
</form>
<script>
  fetch(${JSON.stringify(`${victim.apiUrl}/api/streams/${stream.streamId}/watch`)}, { method: 'POST', mode: 'no-cors' })
    .then(() => 'sent', (e) => 'failed: ' + e)
    .then((r) => { document.title = r; document.getElementById('leave').submit(); });
</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    profileDir = makeTempDir('astral-chromium-');
    browser = await chromium.launchPersistentContext(join(profileDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
    });
  }, 200_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    if (profileDir) removeTempDir(profileDir);
    await publisher?.stop().catch(() => undefined);
    await new Promise((resolve) => (attacker ? attacker.close(resolve) : resolve(undefined)));
    await net?.stop();
  }, 60_000);

  it(
    'a page of another origin can neither make the node leave nor watch (form POST, no-cors fetch)',
    () =>
      step(async () => {
        const page = await browser!.newPage();
        await page.goto(attackerOrigin);
        // The form's navigation lands on the agent's refusal.
        await page.waitForURL(`${victim.apiUrl}/api/leave`, { timeout: 15_000 });
        expect(await page.locator('body').textContent()).toContain(`pages of ${attackerOrigin} may not call`);
        await page.close();
        // Both requests reached the node and were refused there, not merely blocked by the browser.
        await waitFor(
          () =>
            /"status":403,"reason":"foreign origin","method":"POST","path":"\/api\/leave"/.test(log()) &&
            log().includes(`"path":"/api/streams/${stream.streamId}/watch"`),
          { timeoutMs: 5000, what: 'both refusals in the victim agent log' },
        );
        expect(victim.process.running).toBe(true);
        expect((await fetch(`${victim.apiUrl}/api/status`)).status).toBe(200);
        expect(await agentApi<ListedStream[]>(victim, 'GET', '/api/streams')).toEqual([]);
      }),
    60_000,
  );

  it(
    'a page of the directory origin with X-Astral-Control: 1 makes the node watch but may not change a setting; without the header it may not watch',
    () =>
      step(async () => {
        const page = await browser!.newPage();
        await page.goto(`${net.directoryUrl}/`);
        const call = (
          url: string,
          init: { method: string; headers: Record<string, string>; body?: string },
        ) =>
          page.evaluate(
            async ([u, i]) => {
              const r = await fetch(u, i);
              return { status: r.status, body: await r.text() };
            },
            [url, init] as const,
          );
        const without = await call(`${victim.apiUrl}/api/settings`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ maxChildren: 9 }),
        });
        expect(without.status).toBe(401);
        expect((JSON.parse(without.body) as AstralErrorBody).message).toContain('X-Astral-Control: 1');
        const changed = await call(`${victim.apiUrl}/api/settings`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', 'X-Astral-Control': '1' },
          body: JSON.stringify({ maxChildren: 9 }),
        });
        // A directory page may only ask the node to watch (a script injected there cannot reconfigure it).
        expect([changed.status, (JSON.parse(changed.body) as AstralErrorBody).error]).toEqual([
          403,
          'forbidden',
        ]);
        expect((await agentApi<NodeSettings>(victim, 'GET', '/api/settings')).maxChildren).not.toBe(9);
        const noHeader = await call(`${victim.apiUrl}/api/streams/${stream.streamId}/watch`, {
          method: 'POST',
          headers: {},
        });
        expect(noHeader.status).toBe(401);
        const watched = await call(`${victim.apiUrl}/api/streams/${stream.streamId}/watch`, {
          method: 'POST',
          headers: { 'X-Astral-Control': '1' },
        });
        expect(watched.status).toBe(200);
        const list = await agentApi<ListedStream[]>(victim, 'GET', '/api/streams');
        expect(list.map((s) => s.streamId)).toEqual([stream.streamId]);
        // The forward URL (its ?ticket= token) is nobody's business on the API.
        expect(JSON.stringify(list)).not.toContain('ticket=');
        await agentApi(victim, 'DELETE', `/api/streams/${stream.streamId}/watch`);
        await page.close();
      }),
    60_000,
  );

  it(
    'answers 421 to a foreign Host (DNS rebinding), on HTTP and the events WebSocket; its own names are served',
    () =>
      step(async () => {
        const port = victim.ports.api;
        const rebound = await rawRequest(port, '/api/status', { host: `rebind.example:${port}` });
        expect(rebound.status).toBe(421);
        expect((JSON.parse(rebound.body) as AstralErrorBody).error).toBe('misdirected');
        expect((await rawRequest(port, '/api/leave', { host: 'rebind.example' }, 'POST')).status).toBe(421);
        for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, '127.0.0.1']) {
          expect((await rawRequest(port, '/api/status', { host })).status).toBe(200);
        }
        const wsRebound = await rawRequest(port, '/api/events', upgradeHeaders(`rebind.example:${port}`));
        expect([wsRebound.upgraded, wsRebound.status]).toEqual([false, 421]);
        const wsForeign = await rawRequest(
          port,
          '/api/events',
          upgradeHeaders(`127.0.0.1:${port}`, attackerOrigin),
        );
        expect([wsForeign.upgraded, wsForeign.status]).toEqual([false, 403]);
        const wsLocal = await rawRequest(port, '/api/events', upgradeHeaders(`127.0.0.1:${port}`));
        expect([wsLocal.upgraded, wsLocal.status]).toEqual([true, 101]);
        const wsDirectory = await rawRequest(
          port,
          '/api/events',
          upgradeHeaders(`127.0.0.1:${port}`, net.directoryUrl),
        );
        expect(wsDirectory.upgraded).toBe(true);
        // In the browser too: a rebound name reaches the node and is refused.
        const page = await browser!.newPage();
        const res = await page.goto(`http://rebind.example:${port}/api/status`);
        expect(res?.status()).toBe(421);
        await page.close();
        await waitFor(() => log().includes('"reason":"foreign host name"'), {
          timeoutMs: 5000,
          what: 'the 421 log line',
        });
      }),
    60_000,
  );

  it(
    'answers 401 without the token or with a wrong one, saying where it is; the CLI and a bearer token work',
    () =>
      step(async () => {
        const token = victim.apiToken;
        const none = await fetch(`${victim.apiUrl}/api/leave`, { method: 'POST' });
        expect(none.status).toBe(401);
        expect(((await none.json()) as AstralErrorBody).message).toContain(join(victim.dataDir, 'api-token'));
        const wrong = await fetch(`${victim.apiUrl}/api/streams`, {
          headers: { authorization: 'Bearer not-the-token-at-all-not-the-token' },
        });
        expect(wrong.status).toBe(401);
        expect(((await wrong.json()) as AstralErrorBody).message).toMatch(/^wrong API token/);
        expect((await fetch(`${victim.apiUrl}/api/tickets`)).status).toBe(401);
        // Status reads stay open to a loopback caller.
        expect((await fetch(`${victim.apiUrl}/api/status`)).status).toBe(200);
        expect((await fetch(`${victim.apiUrl}/api/settings`)).status).toBe(200);

        const target = ['--node', victim.apiUrl];
        const cli = await astral([
          'node',
          'settings',
          '--max-children',
          '7',
          ...target,
          '--data-dir',
          victim.dataDir,
          '--json',
        ]);
        expect([cli.code, (JSON.parse(cli.stdout || '{}') as NodeSettings).maxChildren]).toEqual([0, 7]);
        const elsewhere = makeTempDir('astral-no-node-');
        try {
          const refused = await astral([
            'node',
            'settings',
            '--max-children',
            '8',
            ...target,
            '--data-dir',
            elsewhere,
          ]);
          expect(refused.code).toBe(1);
          expect(refused.stderr).toMatch(/this call needs the API token.*api-token/);
          const given = await astral([
            'node',
            'tickets',
            ...target,
            '--data-dir',
            elsewhere,
            '--api-token',
            token,
            '--json',
          ]);
          expect(given.code).toBe(0);
        } finally {
          removeTempDir(elsewhere);
        }
        await waitFor(() => log().includes('"reason":"wrong token"'), {
          timeoutMs: 5000,
          what: 'the 401 log line',
        });
        expect(log()).not.toContain(token);

        // The twin of the attacker's form: the owner's bearer token makes the node leave.
        const left = await fetch(`${victim.apiUrl}/api/leave`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        });
        expect(left.status).toBe(202);
        // The agent ran its graceful leave and exited (`node start` then starts a fresh one).
        await waitFor(() => /the agent died \(code 0\)/.test(log()), {
          timeoutMs: 30_000,
          what: 'the agent to leave and exit',
        });
      }),
    90_000,
  );
});
