/**
 * The Astral network as containers (testcontainers on podman's Docker API, see global-setup.ts):
 * Redis, the directory and 6 nodes on a private network; the bundled sample is published at node 1
 * and the other nodes watch it. Every node may upload two copies of the stream, so node 1 serves at
 * most two and the rest hang below them: a tree. Players are ffprobe on the host, reading a node's
 * HTTP-FLV through the port published on 127.0.0.1.
 */
import { agentApi, ffprobe, httpJson, sleep, waitFor } from '@astral/testing';
import Redis from 'ioredis';
import { getContainerRuntimeClient } from 'testcontainers';
import type { ListedStream, NodeStatus } from '@astral/contracts';
import { AstralContainerNetwork, AstralNodeContainer } from './astral-containers';
import { podman } from './podman-env';

const NODES = 6;
/** The sample is about 1 Mbit/s: 2.5 Mbit/s of upload carries two copies. */
const TWO_STREAMS = '2.5mbit';

interface DirectoryNode {
  nodeId: string;
  lastSeenAt: string;
}

/** child node id → upstream node id, and each node's path, from every node's /api/status. */
async function forwardTree(
  nodes: AstralNodeContainer[],
  streamId: string,
): Promise<{ parent: Map<string, string>; paths: Map<string, string[]> }> {
  const parent = new Map<string, string>();
  const paths = new Map<string, string[]>();
  const statuses: NodeStatus[] = await Promise.all(nodes.map((n) => n.status()));
  for (const s of statuses) {
    const carried = s.streams.find((x) => x.streamId === streamId);
    if (!carried) continue;
    paths.set(s.nodeId, carried.path);
    if (carried.upstreamNodeId) parent.set(s.nodeId, carried.upstreamNodeId);
  }
  return { parent, paths };
}

function descendantsOf(parent: Map<string, string>, id: string): string[] {
  const out: string[] = [];
  for (const child of parent.keys()) {
    for (let up = parent.get(child); up; up = parent.get(up)) {
      if (up === id) {
        out.push(child);
        break;
      }
      if (up === child) break; // a cycle would be a bug, but must not hang the test
    }
  }
  return out;
}

async function plays(
  node: AstralNodeContainer,
  streamId: string,
): Promise<{ video: number; audio: number; codecs: string[] }> {
  const { streams } = await ffprobe(node.httpFlvUrl(streamId), { readSeconds: 3, timeoutMs: 25_000 });
  return {
    video: streams.find((s) => s.codec_type === 'video')?.nb_read_frames ?? 0,
    audio: streams.find((s) => s.codec_type === 'audio')?.nb_read_frames ?? 0,
    // The source's onAstralClock stamps show as a data stream without a codec: left out.
    codecs: streams
      .map((s) => s.codec_name)
      .filter((c) => c !== '')
      .sort(),
  };
}

describe('Astral network in containers', () => {
  const net = new AstralContainerNetwork('tree');
  let streamId: string;
  let source: AstralNodeContainer;

  const withLogs = (fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      console.log(net.logs());
      throw err;
    }
  };

  beforeAll(
    withLogs(async () => {
      const t0 = Date.now();
      await net.startInfrastructure();
      // One at a time: on 2 cores, parallel Nest boots only slow each other down.
      // The suite's players run on the host and reach the nodes through the container network's gateway, like
      // viewers on the nodes' LAN: local, so they leave the two streams of upload to the forwards under test.
      for (let k = 1; k <= NODES; k++)
        await net.startNode(k, {
          ASTRAL_UPLOAD_LIMIT: TWO_STREAMS,
          ASTRAL_LOCAL_PLAYERS: 'loopback,10.0.0.0/8',
        });
      source = net.nodes[0];
      await net.startPublisher(source);
      streamId = await waitFor(
        async () => (await agentApi<ListedStream[]>(source, 'GET', `/api/streams`))[0]?.streamId,
        { timeoutMs: 60_000, intervalMs: 500, what: 'the published stream at node 1' },
      );
      // As docker/testbed-watch.js does: each node in turn, once the previous one carries the stream.
      for (const node of net.nodes.slice(1)) {
        await waitFor(
          () =>
            agentApi(node, 'POST', `/api/streams/${encodeURIComponent(streamId)}/watch`, undefined, {
              timeoutMs: 20_000,
            }),
          {
            timeoutMs: 60_000,
            intervalMs: 1000,
            what: `${node.name} to watch ${streamId}`,
          },
        );
      }
      console.log(JSON.stringify({ containers: net.containers.length, startAndWatchMs: Date.now() - t0 }));
    }),
    600_000,
  );

  afterAll(async () => {
    await net.stop();
  }, 120_000);

  it(
    'runs every container read-only without capabilities; Redis refuses a client without credentials and holds each role to its channels',
    withLogs(async () => {
      for (const c of net.containers) {
        const hostConfig = podman([
          'inspect',
          c.getId(),
          '--format',
          '{{.HostConfig.ReadonlyRootfs}} {{.EffectiveCaps}} {{.HostConfig.SecurityOpt}}',
        ]).trim();
        expect([c.getName(), hostConfig]).toEqual([c.getName(), 'true [] [no-new-privileges]']);
      }
      const port = net.redis.getMappedPort(6379);
      const asUser = (url: string | null) => {
        const u = url ? new URL(url) : null;
        return new Redis({
          host: '127.0.0.1',
          port,
          ...(u && { username: u.username, password: decodeURIComponent(u.password) }),
          lazyConnect: true,
          enableReadyCheck: false,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
      };
      const anonymous = asUser(null);
      const directory = asUser(net.credentials.directoryUrl);
      const seeder = asUser(net.credentials.nodeUrl);
      try {
        await anonymous.connect();
        await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
        await directory.connect();
        await seeder.connect();
        expect(await seeder.ping()).toBe('PONG');
        expect(await seeder.publish(`node.${source.nodeId}.probe`, '{}')).toBeGreaterThanOrEqual(0);
        expect(await directory.publish('directory.nodes.list.reply', '{}')).toBeGreaterThanOrEqual(0);
        await expect(directory.publish(`node.${source.nodeId}.probe`, '{}')).rejects.toThrow(/NOPERM/);
        await expect(seeder.get('any-key')).rejects.toThrow(/NOPERM/);
      } finally {
        for (const c of [anonymous, directory, seeder]) c.disconnect();
      }
    }),
    60_000,
  );

  it(
    'builds a tree from node 1 within every upload limit, and every leaf plays the stream',
    withLogs(async () => {
      const { parent, paths } = await waitFor(
        async () => {
          const tree = await forwardTree(net.nodes, streamId);
          return tree.parent.size === NODES - 1 ? tree : null;
        },
        { timeoutMs: 60_000, intervalMs: 1000, what: 'every viewer to carry the stream from an upstream' },
      );
      const children = (id: string) => [...parent.entries()].filter(([, up]) => up === id).map(([c]) => c);
      for (const n of net.nodes.slice(1)) expect(paths.get(n.nodeId)?.[0]).toBe(source.nodeId);
      for (const n of net.nodes) expect(children(n.nodeId).length).toBeLessThanOrEqual(2);
      expect(Math.max(...[...paths.values()].map((p) => p.length - 1))).toBeGreaterThanOrEqual(2); // a tree, not a star
      const leaves = net.nodes.filter((n) => n !== source && children(n.nodeId).length === 0);
      expect(leaves.length).toBeGreaterThanOrEqual(2);
      for (const leaf of leaves) {
        const p = await plays(leaf, streamId);
        console.log(JSON.stringify({ leaf: leaf.name, hops: paths.get(leaf.nodeId)!.length - 1, ...p }));
        expect(p.codecs).toEqual(['aac', 'h264']);
        expect(p.video).toBeGreaterThan(30);
        expect(p.audio).toBeGreaterThan(30);
      }
    }),
    300_000,
  );

  it(
    "a middle node's container is killed: its descendants re-attach elsewhere and play again",
    withLogs(async () => {
      const { parent } = await forwardTree(net.nodes, streamId);
      const middle = net.nodes
        .filter((n) => n !== source)
        .map((n) => ({ n, below: descendantsOf(parent, n.nodeId) }))
        .sort((a, b) => b.below.length - a.below.length)[0];
      expect(middle.below.length).toBeGreaterThanOrEqual(1);
      const orphans = net.nodes.filter((n) => middle.below.includes(n.nodeId));
      const killedAt = Date.now();
      await net.killNode(middle.n);
      const gone = middle.n.nodeId;
      const short = (ids: string[] | undefined) =>
        (ids ?? []).map((id) => net.nodes.find((n) => n.nodeId === id)?.name ?? id.slice(0, 8));
      // Re-attached: every descendant pulls from a live upstream again (the killed node's direct children
      // must have switched; nodes further down may keep their parent).
      let last = await forwardTree(orphans, streamId);
      await waitFor(
        async () => {
          last = await forwardTree(orphans, streamId);
          return orphans.every((o) => {
            const up = last.parent.get(o.nodeId);
            return up !== undefined && up !== gone && last.paths.get(o.nodeId)?.[0] === source.nodeId;
          });
        },
        {
          timeoutMs: 60_000,
          intervalMs: 250,
          what: `${orphans.map((o) => o.name).join(', ')} to re-attach without ${middle.n.name}`,
        },
      ).catch((err: Error) => {
        const paths = orphans.map((o) => `${o.name}: ${short(last.paths.get(o.nodeId)).join('>')}`);
        throw new Error(`${err.message}; last paths ${paths.join(', ')}`);
      });
      const reattachedMs = Date.now() - killedAt;
      for (const o of orphans) {
        const p = await waitFor(
          async () => {
            const r = await plays(o, streamId);
            return r.video > 30 && r.audio > 30 ? r : null;
          },
          { timeoutMs: 30_000, intervalMs: 500, what: `${o.name} to play again` },
        );
        expect(p.codecs).toEqual(['aac', 'h264']);
      }
      const playingMs = Date.now() - killedAt;
      // The paths the descendants report, once they play again (informational: a node below a survivor
      // learns its new path from its upstream's ticket heartbeats).
      const pathsAfter = await forwardTree(orphans, streamId);
      console.log(
        JSON.stringify({
          killed: middle.n.name,
          orphans: orphans.map((o) => o.name),
          reattachedMs,
          playingMs,
          paths: orphans.map((o) => short(pathsAfter.paths.get(o.nodeId)).join('>')),
        }),
      );
      expect(reattachedMs).toBeLessThan(30_000);
    }),
    300_000,
  );

  it(
    'Redis stopped for 5 s and started again: the streams keep flowing and every agent reconnects',
    withLogs(async () => {
      const client = await getContainerRuntimeClient();
      const redis = client.container.getById(net.redis.getId());
      const { parent } = await forwardTree(net.nodes, streamId);
      const leaves = net.nodes.filter((n) => n !== source && ![...parent.values()].includes(n.nodeId));

      await client.container.stop(redis, { timeout: 0 });
      const stoppedAt = Date.now();
      // The data plane does not need Redis: a leaf keeps playing while it is down.
      const during = await plays(leaves[0], streamId);
      const left = 5000 - (Date.now() - stoppedAt);
      if (left > 0) await sleep(left);
      await client.container.start(redis);
      const restartedAt = Date.now();

      // Agents reconnect: each answers GET /api/nodes, a request-reply through Redis to the directory,
      // and the directory has a heartbeat from every node since the restart.
      const ids = net.nodes.map((n) => n.nodeId).sort();
      await waitFor(
        async () => {
          for (const n of net.nodes)
            await httpJson('GET', `${n.apiUrl}/api/nodes`, undefined, { timeoutMs: 5000 });
          const listed = await httpJson<DirectoryNode[]>('GET', `${net.directoryUrl}/api/nodes`, undefined, {
            timeoutMs: 5000,
          });
          const fresh = listed.filter((d) => Date.parse(d.lastSeenAt) > restartedAt).map((d) => d.nodeId);
          return ids.every((id) => fresh.includes(id));
        },
        {
          timeoutMs: 60_000,
          intervalMs: 500,
          what: 'every agent to reach the directory again after the Redis restart',
        },
      );
      const reconnectedMs = Date.now() - restartedAt;
      const after = await forwardTree(net.nodes, streamId);
      expect(after.parent.size).toBe(net.nodes.length - 1);
      const plays2 = await Promise.all(
        leaves.map(async (l) => ({ leaf: l.name, ...(await plays(l, streamId)) })),
      );
      console.log(
        JSON.stringify({ redisDownMs: restartedAt - stoppedAt, during, reconnectedMs, after: plays2 }),
      );
      expect(during.video).toBeGreaterThan(30);
      expect(during.audio).toBeGreaterThan(30);
      for (const p of plays2) {
        expect(p.video).toBeGreaterThan(30);
        expect(p.audio).toBeGreaterThan(30);
      }
    }),
    300_000,
  );
});
