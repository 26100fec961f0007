/**
 * Overlay benchmarks on a real local network (directory, N nodes as agent + relay processes, Redis):
 *   npm run bench -- tree --nodes N --upload-limit-streams 2 [--json FILE]
 *   npm run bench -- failover --nodes N [--standby [--standby-mode idle]] [--json FILE] (bench/failover.ts)
 */
import {
  FlvTagReader,
  LocalNetwork,
  forwardTree,
  httpJson,
  sampleFlvPath,
  sleep,
  startLocalNetwork,
  waitFor,
  agentApi,
} from '@astral/testing';
import { NodeStatus, PublishReply, RelayStats } from '@astral/contracts';
import { FlvFilePublisher, FlvTag } from '@astral/media';
import { sampleBitrateBps } from './lib/flv-bitrate';
import { parseFlags, percentile, report } from './lib/report';

export interface Overlay {
  net: LocalNetwork;
  publisher: FlvFilePublisher;
  streamId: string;
  published: { ts: number; at: number }[];
  readers: Map<number, FlvTagReader>;
  joinMs: number[];
  stop(): Promise<void>;
}

/**
 * Starts N nodes, publishes the sample at node 1 and has every other node watch, one after another.
 * `onTag`: every tag each viewer's player (index) receives; `env`: extra environment of every node.
 */
export async function buildOverlay(
  nodes: number,
  uploadLimit: string,
  logDir?: string,
  options: {
    env?: Record<string, string>;
    onTag?: (index: number, tag: FlvTag, arrivalMs: number) => void;
  } = {},
): Promise<Overlay> {
  const net = await startLocalNetwork({
    nodes: Array.from({ length: nodes }, () => ({
      uploadLimit,
      env: { ASTRAL_MAX_CHILDREN: '8', ...options.env },
    })),
    heartbeatMs: 1000,
    logLevel: 'warn',
    readyTimeoutMs: 120_000,
    // --log-dir DIR keeps every process's log after the run (otherwise removed with the temp dir).
    logDir,
  });
  const published: { ts: number; at: number }[] = [];
  const readers = new Map<number, FlvTagReader>();
  const created = await agentApi<PublishReply>(net.nodes[0], 'POST', `/api/streams`, {
    title: 'bench',
  });
  const publisher = new FlvFilePublisher({
    file: sampleFlvPath(),
    url: created.publishUrl,
    onVideoFrame: (ts) => published.push({ ts, at: Date.now() }),
  });
  await publisher.start();
  // The source admits forwards once it has measured the stream's bit rate (about a second of video).
  await sleep(2000);
  const joinMs: number[] = [];
  for (let i = 1; i < nodes; i++) {
    const node = net.nodes[i];
    const t0 = performance.now();
    await waitFor(() => agentApi(node, 'POST', `/api/streams/${created.streamId}/watch`).catch(() => null), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `node ${i + 1} to get a ticket`,
    });
    const reader = await FlvTagReader.open(
      node.playUrls(created.streamId).httpFlv,
      options.onTag && ((tag, at) => options.onTag!(i, tag, at)),
    );
    readers.set(i, reader);
    await waitFor(() => reader.videoFrames.some((f) => f.keyframe), {
      timeoutMs: 15_000,
      intervalMs: 10,
      what: `a keyframe at node ${i + 1}`,
    });
    joinMs.push(reader.videoFrames.find((f) => f.keyframe)!.arrivalMs - t0);
  }
  return {
    net,
    publisher,
    streamId: created.streamId,
    published,
    readers,
    joinMs,
    stop: async () => {
      for (const r of readers.values()) r.close();
      await publisher.stop().catch(() => undefined);
      await net.stop();
    },
  };
}

export async function treeBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const nodes = Number(flags.get('nodes') ?? 10);
  const streams = Number(flags.get('upload-limit-streams') ?? 2);
  const bitrate = sampleBitrateBps();
  // Room for `streams` copies at the sample's peak, not for one more.
  const limitBps = Math.round((streams + 0.4) * bitrate);
  const o = await buildOverlay(nodes, String(limitBps), flags.get('log-dir'));
  try {
    await sleep(3000);
    const sentBy = (s: RelayStats) =>
      s.streams.find((x) => x.streamId === o.streamId)?.forwards.reduce((n, f) => n + f.bytesSent, 0) ?? 0;
    const viewerBytes = () => [...o.readers.values()].reduce((n, r) => n + r.bytes, 0);
    const a = await httpJson<RelayStats>('GET', o.net.nodes[0].forwardStatsUrl);
    const va = viewerBytes();
    const t0 = Date.now();
    const ta = performance.now();
    await sleep(10_000);
    const t1 = Date.now();
    const b = await httpJson<RelayStats>('GET', o.net.nodes[0].forwardStatsUrl);
    const vb = viewerBytes();
    const windowMs = performance.now() - ta;
    const sourceEgressBps = ((sentBy(b) - sentBy(a)) * 8000) / windowMs;
    // What one server would have sent them: the bytes the viewers received in the same window, on the
    // same wire format (FLV tags with headers) as the source's egress.
    const viewersIngressBps = ((vb - va) * 8000) / windowMs;
    await sleep(2000);
    const sent = o.published.filter((p) => p.at >= t0 && p.at < t1).map((p) => p.ts);
    let received = 0;
    for (const r of o.readers.values()) {
      const got = new Set(r.videoTimestamps);
      received += sent.filter((ts) => got.has(ts)).length;
    }
    const viewers = nodes - 1;
    const measured = b.streams.find((x) => x.streamId === o.streamId)?.bitrateBps ?? bitrate;
    const statuses = await Promise.all(
      o.net.nodes.slice(1).map((n) => httpJson<NodeStatus>('GET', `${n.apiUrl}/api/status`)),
    );
    const maxDepth = Math.max(
      ...statuses.map((s) => s.streams.find((x) => x.streamId === o.streamId)?.hops ?? 0),
    );
    const joins = [...o.joinMs].sort((x, y) => x - y);
    const t = await forwardTree(o.net, o.streamId);
    report(
      `tree: ${nodes} nodes, upload limit ${streams} streams`,
      {
        nodes,
        uploadLimitStreams: streams,
        uploadLimitKbps: Math.round(limitBps / 1000),
        bitrateKbps: Math.round(measured / 1000),
        sourceEgressKbps: Math.round(sourceEgressBps / 1000),
        viewerIngressKbps: Math.round(viewersIngressBps / viewers / 1000),
        offload: 1 - sourceEgressBps / viewersIngressBps,
        offloadGoal: 1 - 2 / nodes,
        sourceCopies: Math.round(sourceEgressBps / (viewersIngressBps / viewers)),
        deliveryRatio: received / (viewers * sent.length),
        maxDepth,
        maxForwardsPerNode: Math.max(...[...t.values()].map((c) => c.length)),
        joinMs: { p50: percentile(joins, 50), p95: percentile(joins, 95) },
      },
      flags.get('json'),
    );
  } finally {
    await o.stop();
  }
}
