import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { ClientProxy } from '@nestjs/microservices';
import {
  addressed,
  AgentPatterns,
  AstralErrorBody,
  DirectoryPatterns,
  WireReply,
  fromSender,
} from '@astral/contracts';
import { claimingBusClient, request } from '@astral/transport';
import {
  LocalNetwork,
  agentAuthHeaders,
  processAlive,
  sleep,
  startLocalNetwork,
  waitFor,
  withLogsOnFailure,
} from '@astral/testing';
import { rssMbSync } from '../bench/lib/proc-sampler';
import {
  childPid,
  deepJson,
  flood,
  hugeHeader,
  randomGarbage,
  sendRaw,
  slowloris,
  statusOf,
} from './hostile-input-probes';

/**
 * Hostile input on a node agent's local API and on the directory's HTTP port (real processes: one
 * directory and one `astral node start`), and on their Redis request channels.
 */
const LIMITS = { ASTRAL_HANDSHAKE_TIMEOUT_MS: '1500', ASTRAL_MAX_CONNECTIONS_PER_ADDRESS: '20' };

interface Target {
  name: string;
  port: () => number;
  pid: () => number;
  log: () => string;
  /** A JSON request that must succeed, and where to send a body. */
  jsonRoute: { method: string; path: string; good: () => unknown };
  healthPath: string;
  /** Headers of a legitimate caller (the agent's API token, the directory's operator token). */
  auth: () => Record<string, string>;
}

describe('hostile input: agent API and directory HTTP', () => {
  let net: LocalNetwork;
  let redis: Redis;
  let client: ClientProxy;
  const rssBefore: Record<string, number> = {};
  let agentPid = 0;

  const targets: Target[] = [
    {
      name: 'agent API',
      port: () => net.nodes[0].ports.api,
      pid: () => agentPid,
      log: () => readFileSync(net.nodes[0].logFile, 'utf8'),
      jsonRoute: { method: 'PATCH', path: '/api/settings', good: () => ({ maxChildren: 50 }) },
      healthPath: '/api/status',
      auth: () => agentAuthHeaders(net.nodes[0]),
    },
    {
      name: 'directory HTTP',
      port: () => Number(new URL(net.directoryUrl).port),
      pid: () => net.directory.pid!,
      log: () => readFileSync(net.directory.logFile!, 'utf8'),
      jsonRoute: {
        method: 'POST',
        path: '/api/streams',
        good: () => ({ sourceNodeId: net.nodes[0].nodeId, title: 'hostile twin' }),
      },
      healthPath: '/api/nodes',
      auth: () => ({ authorization: `Bearer ${net.operatorToken}` }),
    },
  ];

  beforeAll(async () => {
    net = await startLocalNetwork({ nodes: [{}], env: LIMITS });
    agentPid = childPid(net.nodes[0].process.pid!, 'agent') ?? 0;
    expect(agentPid).toBeGreaterThan(0);
    redis = new Redis(net.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    client = claimingBusClient({ url: net.redisUrl });
    for (const t of targets) rssBefore[t.name] = rssMbSync(t.pid());
  }, 120_000);

  afterAll(async () => {
    redis?.disconnect();
    await client?.close();
    await net?.stop();
  }, 60_000);

  const withLogs = (body: () => Promise<void>): Promise<void> =>
    withLogsOnFailure(() => net.logs(6000), body);
  const call = (t: Target, method: string, path: string, body?: string, type = 'application/json') =>
    fetch(`http://127.0.0.1:${t.port()}${path}`, {
      method,
      headers: { ...t.auth(), ...(body !== undefined && { 'Content-Type': type }) },
      ...(body !== undefined && { body }),
      signal: AbortSignal.timeout(5000),
    });

  describe.each(targets.map((t) => [t.name, t] as const))('%s', (_name, t) => {
    it('answers JSON nested 3000 deep with 400 and a log line; malformed or non-JSON bodies with 400; a normal JSON request with 200', async () => {
      await withLogs(async () => {
        const deep = await call(t, t.jsonRoute.method, t.jsonRoute.path, deepJson(3000));
        expect(deep.status).toBe(400);
        expect(((await deep.json()) as AstralErrorBody).message).toMatch(/nested deeper than 32 levels/);
        await waitFor(
          () => /request refused|request rejected/.test(t.log()) && t.log().includes('nested deeper'),
          {
            timeoutMs: 5000,
            what: `the deep-JSON refusal in the ${t.name} log`,
          },
        );
        for (const [body, type] of [
          ['{"maxChildren":', 'application/json'],
          ['\u0000\u00ff\u0001', 'application/json'],
          ['maxChildren=5', 'text/plain'],
          ['{}', 'application/x-www-form-urlencoded'],
        ]) {
          const res = await call(t, t.jsonRoute.method, t.jsonRoute.path, body, type);
          expect([body, res.status]).toEqual([body, 400]);
          await res.body?.cancel();
        }
        const good = await call(t, t.jsonRoute.method, t.jsonRoute.path, JSON.stringify(t.jsonRoute.good()));
        expect(good.status).toBe(200);
        const unknown = await call(t, 'GET', '/no/such/route');
        expect(unknown.status).toBe(404);
      });
    }, 60_000);

    it('answers random bytes with 400 and a 1 MiB header with 431; closes a slowloris past the handshake timeout', async () => {
      await withLogs(async () => {
        for (let i = 0; i < 5; i += 1) {
          const ex = await sendRaw(t.port(), randomGarbage(64 * 1024));
          if (ex.text.length > 0) expect(statusOf(ex)).toBe(400);
        }
        // Several times: the answer must win every race with the rest of the header still arriving.
        for (let i = 0; i < 3; i += 1) expect(statusOf(await hugeHeader(t.port(), t.healthPath))).toBe(431);
        const [slow, normal] = await Promise.all([
          slowloris(t.port(), 8000),
          sleep(300).then(() => call(t, 'GET', t.healthPath)),
        ]);
        expect(normal.status).toBe(200);
        expect(slow.closedByServer).toBe(true);
        expect(slow.closedAfterMs).toBeGreaterThanOrEqual(1400);
        expect(slow.closedAfterMs).toBeLessThan(4500);
      });
    }, 60_000);

    it('refuses a flood past the per-address cap, serves a normal request afterwards, and stays alive within 32 MB', async () => {
      await withLogs(async () => {
        const { refused, held } = await flood(t.port(), 60);
        expect(held).toBeLessThanOrEqual(20);
        expect(refused).toBeGreaterThanOrEqual(40);
        await waitFor(() => t.log().includes('connection refused'), {
          timeoutMs: 5000,
          what: `the refusal in the ${t.name} log`,
        });
        expect((await call(t, 'GET', t.healthPath)).status).toBe(200);
        expect(processAlive(t.pid())).toBe(true);
        const grown = rssMbSync(t.pid()) - rssBefore[t.name];
        console.log(JSON.stringify({ target: t.name, rssBeforeMb: rssBefore[t.name], rssGrowthMb: grown }));
        expect(grown).toBeLessThan(32);
      });
    }, 60_000);
  });

  it('refuses garbage, deep, huge and ill-shaped messages on the directory and agent channels; both still answer real requests', async () => {
    await withLogs(async () => {
      // On a sender's channel, so that the messages reach the screen (a channel naming no sender is refused before it).
      const stranger = randomUUID();
      const channels = [
        fromSender(DirectoryPatterns.ListNodes, stranger),
        fromSender(addressed(AgentPatterns.TicketRequest, net.nodes[0].nodeId), stranger),
      ];
      const replies: WireReply[] = [];
      const sub = redis.duplicate();
      await sub.subscribe(...channels.map((c) => `${c}.reply`));
      sub.on('message', (_ch: string, msg: string) => replies.push(JSON.parse(msg) as WireReply));
      const ids: string[] = [];
      for (const channel of channels) {
        const id = { deep: randomUUID(), huge: randomUUID() };
        ids.push(id.deep, id.huge);
        await redis.publish(channel, 'not json {');
        await redis.publish(channel, randomGarbage(4096));
        await redis.publish(channel, `{"pattern":"${channel}","data":${deepJson(3000)},"id":"${id.deep}"}`);
        await redis.publish(
          channel,
          `{"pattern":"${channel}","data":"${'x'.repeat(1024 * 1024)}","id":"${id.huge}"}`,
        );
        await redis.publish(channel, '"just a string"');
      }
      await waitFor(() => ids.every((id) => replies.some((r) => r.id === id)), {
        timeoutMs: 5000,
        what: 'error replies to every request with an id',
      });
      for (const id of ids) expect(replies.find((r) => r.id === id)?.err?.status).toBe(400);
      await sub.quit();
      for (const t of targets) expect(t.log()).toMatch(/redis message refused/);
      const nodes = await request(client, DirectoryPatterns.ListNodes, {});
      expect(nodes.map((n) => n.nodeId)).toContain(net.nodes[0].nodeId);
      expect((await call(targets[0], 'GET', '/api/status')).status).toBe(200);
      expect(processAlive(agentPid) && processAlive(net.directory.pid!)).toBe(true);
    });
  }, 60_000);
});
