/**
 * `npm run bench -- viewers --nodes N --viewers V [--source-copies C] [--seconds S] [--json FILE]`
 *
 * Every viewer rides the tree (issue 14): a real local network (directory, N nodes, Redis), the sample
 * published at node 1 in real time, and V HTTP-FLV clients in this process, each placed through the
 * directory (GET /api/streams/:id/play, then the first candidate's flvUrl). The nodes count loopback players
 * as upload here (ASTRAL_LOCAL_PLAYERS=none), since every viewer of the bench is on this machine.
 *
 * Node 1 (the source) may upload C copies (default 2); the others enough that the network's limits carry V
 * viewers plus the N−1 forwards that feed the nodes, with a little room over. Egress per node is measured at
 * the receivers over S seconds once every viewer has joined: the bytes each viewer got from its node plus the
 * bytes of the node's forwards (relay stats). The peer is one relay serving all V viewers itself (what a
 * single node-media-server does), with the same clients, in the same run.
 */
import { PlacementReply, PublishReply, RelayStats } from '@astral/contracts';
import { FlvFilePublisher } from '@astral/media';
import {
  FlvTagReader,
  LocalNetwork,
  agentApi,
  httpJson,
  sampleFlvPath,
  sleep,
  startLocalNetwork,
  waitFor,
} from '@astral/testing';
import { sampleBitrateBps } from './lib/flv-bitrate';
import { startRelayTestbed } from './lib/relay-testbed';
import { parseFlags, percentile, report } from './lib/report';

interface Viewer {
  reader: FlvTagReader;
  nodeId: string;
  placementMs: number;
  startMs: number;
}

const KEYFRAME_TIMEOUT_MS = 15_000;

/** Waits for the reader's first video frame; returns ms since `t0`, or null if none came. */
async function firstFrameMs(reader: FlvTagReader, t0: number): Promise<number | null> {
  try {
    await waitFor(() => reader.videoFrames.length > 0 || reader.ended, {
      timeoutMs: KEYFRAME_TIMEOUT_MS,
      intervalMs: 5,
      what: 'a first video frame',
    });
  } catch {
    return null;
  }
  const f = reader.videoFrames[0];
  return f ? f.arrivalMs - t0 : null;
}

/** One viewer: asks the directory where to play, then plays from the first candidate that answers. */
async function placeViewer(net: LocalNetwork, streamId: string): Promise<Viewer | string> {
  const t0 = performance.now();
  let placement: PlacementReply;
  try {
    placement = await httpJson<PlacementReply>('GET', `${net.directoryUrl}/api/streams/${streamId}/play`);
  } catch (err) {
    return `placement refused: ${(err as Error).message}`;
  }
  const placementMs = performance.now() - t0;
  for (const c of placement.candidates) {
    const reader = await FlvTagReader.open(c.flvUrl).catch(() => null);
    if (!reader) continue;
    const startMs = await firstFrameMs(reader, t0);
    if (startMs === null) {
      reader.close();
      continue;
    }
    return { reader, nodeId: c.nodeId, placementMs, startMs };
  }
  return `no candidate of ${placement.candidates.length} played`;
}

function stats(values: number[]): { p50: number; p95: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

function forwardBytes(s: RelayStats, streamId: string): number {
  return s.streams.find((x) => x.streamId === streamId)?.forwards.reduce((n, f) => n + f.bytesSent, 0) ?? 0;
}

/** Bytes each node sent (its viewers' bytes plus its forwards') between two readings. */
async function egressWindow(
  net: LocalNetwork,
  viewers: Viewer[],
  streamId: string,
  seconds: number,
): Promise<{ bpsByNode: Map<string, number>; windowMs: number }> {
  const read = async () => {
    const fwd = await Promise.all(
      net.nodes.map((n) =>
        httpJson<RelayStats>('GET', n.forwardStatsUrl).then((s) => forwardBytes(s, streamId)),
      ),
    );
    const byNode = new Map<string, number>(net.nodes.map((n, i) => [n.nodeId, fwd[i]]));
    for (const v of viewers) byNode.set(v.nodeId, (byNode.get(v.nodeId) ?? 0) + v.reader.bytes);
    return { byNode, at: performance.now() };
  };
  const a = await read();
  await sleep(seconds * 1000);
  const b = await read();
  const windowMs = b.at - a.at;
  const bpsByNode = new Map<string, number>();
  for (const [id, bytes] of b.byNode)
    bpsByNode.set(id, ((bytes - (a.byNode.get(id) ?? 0)) * 8000) / windowMs);
  return { bpsByNode, windowMs };
}

/** The peer: one relay (node-media-server inside Astral's relay, unlimited) serving all V viewers itself. */
async function singleServer(v: number, seconds: number, bitrate: number) {
  const bed = await startRelayTestbed();
  const readers: FlvTagReader[] = [];
  try {
    const relay = await bed.startRelay('peer', { logLevel: 'warn' });
    const streamId = 'bench-viewers-peer';
    await bed.publish(relay, streamId);
    await waitFor(
      async () => (await relay.stats()).streams.find((s) => s.streamId === streamId && s.bitrateBps > 0),
      { timeoutMs: 15_000, what: 'the peer stream to flow' },
    );
    const startMs: number[] = [];
    for (let i = 0; i < v; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, v - i) }, async () => {
          const t0 = performance.now();
          const reader = await FlvTagReader.open(relay.httpFlvUrl(streamId)).catch(() => null);
          if (!reader) return;
          readers.push(reader);
          const ms = await firstFrameMs(reader, t0);
          if (ms !== null) startMs.push(ms);
        }),
      );
    }
    const b0 = readers.reduce((n, r) => n + r.bytes, 0);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const bps = ((readers.reduce((n, r) => n + r.bytes, 0) - b0) * 8000) / (performance.now() - t0);
    return { served: startMs.length, sourceEgressCopies: bps / bitrate, startMs: stats(startMs) };
  } finally {
    for (const r of readers) r.close();
    await bed.stop();
  }
}

export async function viewersBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const n = Number(flags.get('nodes') ?? 10);
  const v = Number(flags.get('viewers') ?? 100);
  const sourceCopies = Number(flags.get('source-copies') ?? 2);
  const seconds = Number(flags.get('seconds') ?? 10);
  if (!(n >= 2 && v >= 1)) throw new Error('--nodes must be at least 2 and --viewers at least 1');
  const bitrate = sampleBitrateBps();
  // Copies per non-source node: the viewers and the forwards that feed the N−1 nodes, over N−1 nodes, plus one.
  const copies = Math.ceil((v + (n - 1) - sourceCopies) / (n - 1)) + 1;
  const limitOf = (c: number) => Math.round((c + 0.4) * bitrate);
  const limits = [limitOf(sourceCopies), ...Array.from({ length: n - 1 }, () => limitOf(copies))];
  const capacity = limits.reduce((s, l) => s + Math.floor(l / bitrate), 0) - (n - 1);
  const net = await startLocalNetwork({
    nodes: limits.map((l) => ({ uploadLimit: String(l) })),
    // Every loopback player counts (the viewers are on this machine); the source's preview grabber would then
    // take a copy of its upload, so previews are off.
    env: { ASTRAL_LOCAL_PLAYERS: 'none', ASTRAL_PREVIEWS: 'off', ASTRAL_MAX_CHILDREN: '16' },
    heartbeatMs: 1000,
    logLevel: 'warn',
    readyTimeoutMs: 120_000,
    logDir: flags.get('log-dir'),
  });
  const viewers: Viewer[] = [];
  const failures: string[] = [];
  let publisher: FlvFilePublisher | null = null;
  let stopped = false;
  try {
    const created = await agentApi<PublishReply>(net.nodes[0], 'POST', '/api/streams', { title: 'bench' });
    publisher = new FlvFilePublisher({ file: sampleFlvPath(), url: created.publishUrl });
    await publisher.start();
    const streamId = created.streamId;
    // Every other node watches (they are the tree the viewers are placed on).
    await sleep(2000);
    for (const node of net.nodes.slice(1)) {
      await waitFor(() => agentApi(node, 'POST', `/api/streams/${streamId}/watch`).catch(() => null), {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: `${node.name} to get a ticket`,
      });
    }
    await sleep(3000); // heartbeats carry the carriers' reports to the directory
    // Viewers arrive ten at a time, as an audience does, not all in one instant.
    for (let i = 0; i < v; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, v - i) }, () => placeViewer(net, streamId)),
      );
      for (const b of batch)
        if (typeof b === 'string') failures.push(b);
        else viewers.push(b);
      await sleep(200);
    }
    await sleep(2000);
    const { bpsByNode } = await egressWindow(net, viewers, streamId, seconds);
    const source = net.nodes[0].nodeId;
    const overLimit = net.nodes.map((node, i) => (bpsByNode.get(node.nodeId) ?? 0) / limits[i]);
    const live = viewers.filter((x) => !x.reader.ended);
    const perNode = Object.fromEntries(
      net.nodes.map((node, i) => [
        node.name,
        {
          viewers: live.filter((x) => x.nodeId === node.nodeId).length,
          egressCopies: (bpsByNode.get(node.nodeId) ?? 0) / bitrate,
          limitCopies: limits[i] / bitrate,
        },
      ]),
    );
    for (const x of viewers) x.reader.close();
    await publisher.stop().catch(() => undefined);
    publisher = null;
    await net.stop();
    stopped = true;
    const peer = await singleServer(v, seconds, bitrate);
    const result = {
      nodes: n,
      viewers: v,
      streamBitrateMbps: bitrate / 1e6,
      sourceEgressCopies: (bpsByNode.get(source) ?? 0) / bitrate,
      maxEgressOverLimit: Math.max(...overLimit),
      placementMs: stats(viewers.map((x) => x.placementMs)),
      startMs: stats(viewers.map((x) => x.startMs)),
      served: live.length,
      capacity,
      servedRatio: live.length / Math.min(v, capacity),
      refused: failures.length,
      firstRefusal: failures[0] ?? null,
      perNode,
      peer: { what: 'one relay serving every viewer itself (node-media-server alone)', ...peer },
      ratio: {
        sourceEgressCopies: (bpsByNode.get(source) ?? 0) / bitrate / peer.sourceEgressCopies,
        startMsP50: stats(viewers.map((x) => x.startMs)).p50 / peer.startMs.p50,
      },
    };
    report(`viewers N=${n} V=${v}`, result, flags.get('json'));
  } finally {
    for (const x of viewers) x.reader.close();
    await publisher?.stop().catch(() => undefined);
    if (!stopped) await net.stop().catch(() => undefined);
  }
}
