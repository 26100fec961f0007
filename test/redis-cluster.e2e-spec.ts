import { NodeInfo, PublishReply } from '@astral/contracts';
import {
  FlvTagReader,
  LocalNetwork,
  RedisClusterHandle,
  agentApi,
  deliveryRatios,
  descendants,
  forwardTree,
  httpJson,
  sleep,
  startLocalNetwork,
  startRedisCluster,
  waitFor,
  watchAtEveryViewer,
  withFailureLogs,
  PublishedFrame,
  publishSample,
} from '@astral/testing';
import { FlvFilePublisher } from '@astral/media';

/** 2 streams of the ~1.05 Mbit/s sample fit in 2.5 Mbit/s; 3 do not. */
const TWO_STREAMS = '2.5mbit';
const N = 6;
const SHARDS = 3;

/**
 * The overlay on a 3-shard Redis Cluster (docs/CONTRACTS.md, "Redis Cluster"): the directory and every
 * node get a `?cluster=1` Redis URL and nothing else changes. The tree builds itself within every upload
 * limit as it does on one Redis, and a shard restarted mid-stream heals as a Redis restart does: video
 * keeps flowing (the data plane does not use Redis), tickets are negotiated again over the bus, and the
 * directory keeps every node (heartbeats reach it through the other shards and the healed one).
 */
describe('Overlay on a 3-shard Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let net: LocalNetwork;
  let publisher: FlvFilePublisher;
  let streamId: string;
  const readers = new Map<number, FlvTagReader>();
  const published: PublishedFrame[] = [];

  /** Runs a test body; on failure saves every process's log and prints the tails. */
  const withLogs = withFailureLogs('redis-cluster', () => net);

  beforeAll(async () => {
    cluster = await startRedisCluster({ shards: SHARDS });
    const [first, ...rest] = cluster.nodes.map((n) => `127.0.0.1:${n.port}`);
    net = await startLocalNetwork({
      redisUrl: `redis://${first}?cluster=1&seed=${rest.join(',')}`,
      nodes: Array.from({ length: N }, () => ({ uploadLimit: TWO_STREAMS })),
      heartbeatMs: 1000,
    });
    const created = await agentApi<PublishReply>(net.nodes[0], 'POST', `/api/streams`, {
      title: 'On a cluster',
    });
    streamId = created.streamId;
    publisher = await publishSample(created.publishUrl, published);
  }, 240_000);

  afterAll(async () => {
    for (const r of readers.values()) r.close();
    await publisher?.stop().catch(() => undefined);
    await net?.stop();
    await cluster?.stop();
  }, 60_000);

  it(
    'builds a tree within every upload limit and delivers ≥ 95% of frames to every viewer',
    withLogs(async () => {
      await watchAtEveryViewer(net.nodes, streamId, readers, { ticketMs: 30_000, framesMs: 15_000 });
      const t0 = Date.now();
      await sleep(6000);
      const t1 = Date.now();
      await sleep(2000);
      const sent = published.filter((p) => p.at >= t0 && p.at < t1).map((p) => p.ts);
      const ratios = deliveryRatios(sent, readers);
      console.log(JSON.stringify({ framesPublished: sent.length, ratios }));
      for (const r of ratios) expect(r.ratio).toBeGreaterThanOrEqual(0.95);
      const t = await forwardTree(net, streamId);
      for (const children of t.values()) expect(children.length).toBeLessThanOrEqual(2);
      expect(descendants(t, net.nodes[0].nodeId)).toHaveLength(N - 1);
    }),
    180_000,
  );

  it(
    'heals each shard restarted mid-stream: video flows, a new watch gets a ticket, the directory keeps every node',
    withLogs(async () => {
      const watching = [...readers.keys()];
      for (let shard = 0; shard < SHARDS; shard++) {
        const before = performance.now();
        await cluster.restartShard(shard);
        // The data plane never stopped.
        await waitFor(
          () => watching.every((i) => readers.get(i)!.videoFrames.some((f) => f.arrivalMs > before + 500)),
          {
            timeoutMs: 10_000,
            intervalMs: 100,
            what: `video at every viewer after shard ${shard} restarted`,
          },
        );
        // The control plane is back: a viewer leaves and watches again, negotiating a ticket over the bus,
        // and its player (ended with the watch) plays again.
        const i = 1 + shard;
        const node = net.nodes[i];
        await agentApi(node, 'DELETE', `/api/streams/${streamId}/watch`);
        readers.get(i)!.close();
        await waitFor(() => agentApi(node, 'POST', `/api/streams/${streamId}/watch`).catch(() => null), {
          timeoutMs: 30_000,
          intervalMs: 500,
          what: `a watch at ${node.name} after shard ${shard} restarted`,
        });
        const reader = await FlvTagReader.open(node.playUrls(streamId).httpFlv);
        readers.set(i, reader);
        await reader.waitForFrames(5, 20_000);
      }
      // Heartbeats reached the directory through every restart: no node was expired.
      const listed = await httpJson<NodeInfo[]>('GET', `${net.directoryUrl}/api/nodes`);
      for (const n of net.nodes) expect(listed.map((x) => x.nodeId)).toContain(n.nodeId);
    }),
    180_000,
  );
});
