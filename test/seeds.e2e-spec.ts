import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { NodeInfo, NodesReply, NodeStatus } from '@astral/contracts';
import {
  ManagedProcess,
  RedisHandle,
  agentApi,
  freePort,
  httpJson,
  makeTempDir,
  newOperatorToken,
  readNodeApiToken,
  removeTempDir,
  spawnAstral,
  startRedis,
  waitFor,
  WaitAbortedError,
} from '@astral/testing';

const HOST = '127.0.0.1';

interface SeedNode {
  name: string;
  nodeId: string;
  dataDir: string;
  logFile: string;
  ports: { rtmp: number; http: number; forward: number; api: number };
  seeds?: string;
  proc?: ManagedProcess;
}

/**
 * Seeds first (docs/OVERLAY.md "Supernode membership"): a node started with `--seeds` joins that supernode
 * without the directory, and with the directory up it joins the same seed, which the directory then lists
 * as a supernode (its promotion, made while the directory was away, is recorded once it is back).
 */
describe('Seeds', () => {
  let redis: RedisHandle;
  let root: string;
  let directoryUrl: string;
  let directory: ManagedProcess | undefined;
  const nodes: SeedNode[] = [];

  const api = (n: SeedNode) => ({
    apiUrl: `http://${HOST}:${n.ports.api}`,
    apiToken: readNodeApiToken(n.dataDir),
  });
  const view = (n: SeedNode) =>
    agentApi<NodesReply>(api(n), 'GET', '/api/nodes', undefined, { timeoutMs: 8000 });
  const logs = () =>
    [...nodes.map((n) => n.proc), directory]
      .filter((p): p is ManagedProcess => p !== undefined)
      .map((p) => `----- ${p.name} -----\n${p.readLog(4000)}`)
      .join('\n');

  async function makeNode(name: string, seeds?: string): Promise<SeedNode> {
    const dataDir = join(root, name);
    mkdirSync(dataDir, { recursive: true });
    // A known id before the node starts, so a seed list can name it.
    const nodeId = randomUUID();
    writeFileSync(join(dataDir, 'node-id'), `${nodeId}\n`);
    const ports = {
      rtmp: await freePort(),
      http: await freePort(),
      forward: await freePort(),
      api: await freePort(),
    };
    const n: SeedNode = { name, nodeId, dataDir, logFile: join(root, `${name}.log`), ports, seeds };
    nodes.push(n);
    return n;
  }

  function start(n: SeedNode): void {
    const args = ['node', 'start', '--data-dir', n.dataDir, '--redis', redis.url, '--host', HOST];
    args.push('--api-host', HOST, '--rtmp-port', String(n.ports.rtmp), '--http-port', String(n.ports.http));
    args.push('--forward-port', String(n.ports.forward), '--api-port', String(n.ports.api));
    args.push('--directory-origin', directoryUrl, '--log-level', 'info');
    if (n.seeds) args.push('--seeds', n.seeds);
    n.proc = spawnAstral(n.name, args, { env: { ...process.env }, logFile: n.logFile });
  }

  /** Waits until the node's own membership view satisfies `ok` (the view answers without the directory). */
  const waitView = (n: SeedNode, ok: (v: NodesReply) => boolean, what: string, timeoutMs = 30_000) =>
    waitFor(
      async () => {
        if (!n.proc?.running) throw new WaitAbortedError(`${n.name} exited: ${n.proc?.readLog(4000)}`);
        const v = await view(n).catch(() => null);
        return v && ok(v) ? v : undefined;
      },
      { timeoutMs, intervalMs: 250, what },
    );

  beforeAll(async () => {
    redis = await startRedis();
    root = makeTempDir('astral-seeds-');
    // The directory's address is fixed now; it is not running until the second test.
    directoryUrl = `http://${HOST}:${await freePort()}`;
  }, 60_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.proc?.stop('SIGTERM', 15_000) ?? Promise.resolve()));
    await directory?.stop('SIGTERM', 10_000);
    await redis?.stop();
    if (root) removeTempDir(root);
  }, 60_000);

  it('joins its seed supernode while the directory is not running', async () => {
    try {
      const seed = await makeNode('seed');
      start(seed);
      // No seeds, no directory: nobody to join, so it promotes itself.
      await waitView(
        seed,
        (v) => v.role === 'supernode',
        'the seed to promote itself without the directory',
        60_000,
      );
      const member = await makeNode('member', `${seed.nodeId}@${HOST}:${seed.ports.forward}`);
      start(member);
      const v = await waitView(member, (x) => x.role === 'member', 'the member to join its seed', 60_000);
      expect(v.supernodeId).toBe(seed.nodeId);
      expect(v.directoryError).toBeDefined();
      expect((await view(seed)).members).toEqual([member.nodeId]);
      // /api/status still waits for the directory.
      const status = await fetch(`http://${HOST}:${member.ports.api}/api/status`);
      expect(status.status).toBe(503);
    } catch (err) {
      console.log(logs());
      throw err;
    }
  }, 150_000);

  it('with the directory up, joins its seed again, and the directory lists the seed as a supernode', async () => {
    try {
      const [seed, member] = nodes;
      const dataDir = join(root, 'directory');
      mkdirSync(dataDir, { recursive: true });
      const port = Number(new URL(directoryUrl).port);
      directory = spawnAstral(
        'directory',
        ['directory', '--port', String(port), '--host', HOST, '--data-dir', dataDir, '--redis', redis.url],
        {
          env: { ...process.env, ASTRAL_OPERATOR_TOKEN: newOperatorToken() },
          logFile: join(root, 'directory.log'),
        },
      );
      for (const n of nodes)
        await waitFor(
          async () => {
            if (!directory?.running)
              throw new WaitAbortedError(`the directory exited: ${directory?.readLog()}`);
            return (await fetch(`http://${HOST}:${n.ports.api}/api/status`)).ok;
          },
          { timeoutMs: 60_000, intervalMs: 250, what: `${n.name} to register with the directory` },
        );
      await waitFor(
        async () => {
          const listed = await httpJson<NodeInfo[]>('GET', `${directoryUrl}/api/nodes`);
          return listed.find((n) => n.nodeId === seed.nodeId)?.supernode === true;
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'the directory to record the seed as a supernode' },
      );
      // The same member, restarted with the directory up, joins its seed again.
      await member.proc!.stop('SIGTERM', 15_000);
      start(member);
      const v = await waitView(
        member,
        (x) => x.role === 'member' && x.directoryError === undefined,
        'the member to join its seed again',
        60_000,
      );
      expect(v.supernodeId).toBe(seed.nodeId);
      const status = await httpJson<NodeStatus>('GET', `http://${HOST}:${member.ports.api}/api/status`);
      expect(status).toMatchObject({ role: 'member', supernodeId: seed.nodeId });
      await waitView(seed, (x) => x.members.includes(member.nodeId), 'the seed to list the member', 10_000);
    } catch (err) {
      console.log(logs());
      throw err;
    }
  }, 150_000);
});
