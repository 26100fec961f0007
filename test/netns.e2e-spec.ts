import { NodeStatus, PublishReply, RelayStats } from '@astral/contracts';
import {
  FlvTagReader,
  LocalNode,
  NetnsNetwork,
  deliveryRatios,
  descendants,
  forwardTree,
  httpJson,
  netnsUnavailableReason,
  runHostCommand,
  runningProcesses,
  sleep,
  startNetnsNetwork,
  waitFor,
  watchAtEveryViewer,
  agentApi,
  withFailureLogs,
  PublishedFrame,
  publishSample,
} from '@astral/testing';
import { FlvFilePublisher } from '@astral/media';

const N = 6;
/** Each node's tbf uplink; the ~1.05 Mbit/s sample fits twice (relay limit 2.7 Mbit/s), not three times. */
const UPLINK = '3mbit';
const TAG = 'e2e';

const unavailable = netnsUnavailableReason();
if (unavailable) {
  // Printed so that a skipped run says why; on the project's machines (root) the suite runs.
  console.warn(`SKIPPED test/netns.e2e-spec.ts: ${unavailable}`);
}
const describeIfNetns = unavailable ? describe.skip : describe;

/**
 * The overlay on the network-namespace testbed: 6 nodes, each in its own namespace with its own
 * address and a tbf-shaped 3 Mbit/s uplink. The overlay must stay within the real uplinks, and heal a
 * partition made with iptables (no process killed).
 */
describeIfNetns('Network-namespace testbed', () => {
  let net: NetnsNetwork | undefined;
  let publisher: FlvFilePublisher | undefined;
  let streamId: string;
  const readers = new Map<number, FlvTagReader>();
  const published: PublishedFrame[] = [];
  let partitioned: LocalNode | undefined;

  const nw = (): NetnsNetwork => {
    if (!net) throw new Error('the testbed did not start');
    return net;
  };
  const stats = (n: LocalNode) =>
    httpJson<RelayStats>('GET', n.forwardStatsUrl, undefined, { timeoutMs: 3000 });
  const status = (n: LocalNode) =>
    httpJson<NodeStatus>('GET', `${n.apiUrl}/api/status`, undefined, { timeoutMs: 3000 });
  const byId = (id: string): LocalNode => nw().nodes.find((n) => n.nodeId === id)!;
  const liveForwards = (s: RelayStats) =>
    s.streams.find((x) => x.streamId === streamId)?.forwards.filter((f) => f.state !== 'closed') ?? [];

  /** Runs a test body; on failure saves every process's log and prints the tails. */
  const withLogs = withFailureLogs('netns', () => nw());

  beforeAll(async () => {
    net = await startNetnsNetwork({ nodes: N, uplink: UPLINK, tag: TAG, subnetOctet: 78, heartbeatMs: 1000 });
    const source = net.nodes[0];
    const created = await waitFor(
      () =>
        agentApi<PublishReply>(source, 'POST', `/api/streams`, {
          title: 'netns',
        }),
      { timeoutMs: 30_000, intervalMs: 1000, what: 'node 1 to create the stream' },
    );
    streamId = created.streamId;
    publisher = await publishSample(created.publishUrl, published);
  }, 240_000);

  afterAll(async () => {
    for (const r of readers.values()) r.close();
    await publisher?.stop().catch(() => undefined);
    if (net && partitioned) await net.heal(partitioned).catch(() => undefined);
    await net?.stop();
    // Nothing may be left: no child process, namespace, veth, bridge or rule of this testbed.
    const left = net ? await net.hostNetwork.leftovers() : [];
    const pids = (await runHostCommand(['ip', 'netns', 'list']))
      .split('\n')
      .filter((l) => l.startsWith(`astral-${TAG}-`));
    const procs = runningProcesses().map((p) => p.name);
    if (left.length || pids.length || procs.length) {
      throw new Error(
        `left behind: ${JSON.stringify({ network: left, namespaces: pids, processes: procs })}`,
      );
    }
  }, 90_000);

  it(
    `keeps every node within its ${UPLINK} tbf uplink and delivers ≥ 95% of frames to all ${N - 1} viewers`,
    withLogs(async () => {
      const n = nw();
      await watchAtEveryViewer(n.nodes, streamId, readers, { ticketMs: 30_000, framesMs: 20_000 });

      // Frames: ≥ 95% of the frames published in an 8 s window must reach every viewer.
      const t0 = Date.now();
      // Each node's relay stats and uplink counters, at one moment.
      const snapshot = () =>
        Promise.all(
          n.nodes.map(async (x) => ({
            stats: await stats(x),
            tc: await n.uplinkCounters(x),
            at: performance.now(),
          })),
        );
      const before = await snapshot();
      await sleep(8000);
      const t1 = Date.now();
      const after = await snapshot();
      await sleep(2000);
      const sent = published.filter((p) => p.at >= t0 && p.at < t1).map((p) => p.ts);
      const ratios = deliveryRatios(sent, readers);

      // Uplinks: forwards × stream bit rate within the relay's limit (90% of the tbf rate), and the
      // measured egress (relay bytes and tbf counters) within the tbf rate.
      const bitrate = after[0].stats.streams.find((s) => s.streamId === streamId)!.bitrateBps;
      const perNode = n.nodes.map((x, i) => {
        const seconds = (after[i].at - before[i].at) / 1000;
        const relayBytes = (s: RelayStats) =>
          (s.streams.find((y) => y.streamId === streamId)?.forwards ?? []).reduce(
            (a, f) => a + f.bytesSent,
            0,
          );
        return {
          node: x.name,
          forwards: liveForwards(after[i].stats).length,
          // The test's reader of this node crosses its uplink from the host: a player in its budget.
          players: after[i].stats.streams.find((y) => y.streamId === streamId)?.players ?? 0,
          relayEgressBps: Math.round(
            ((relayBytes(after[i].stats) - relayBytes(before[i].stats)) * 8) / seconds,
          ),
          uplinkBps: Math.round((((after[i].tc?.bytes ?? 0) - (before[i].tc?.bytes ?? 0)) * 8) / seconds),
          tbfDropped: after[i].tc?.dropped ?? null,
        };
      });
      console.log(
        JSON.stringify({
          framesPublished: sent.length,
          ratios,
          bitrateBps: bitrate,
          uplinkBps: n.plan.uplinkBps,
          uploadLimitBps: n.plan.uploadLimitBps,
          perNode,
        }),
      );

      expect(sent.length).toBeGreaterThan(150);
      for (const r of ratios) expect(r.ratio).toBeGreaterThanOrEqual(0.95);
      expect(bitrate).toBeGreaterThan(500_000);
      const tree = await forwardTree(n, streamId);
      expect(descendants(tree, n.nodes[0].nodeId)).toHaveLength(N - 1);
      for (const p of perNode) {
        // Admission plans with the stream's 5 s average, which varies by up to ~15 % with the picture
        // (a carrier admitted a third forward at 0.9 Mbit/s of a 1.03 Mbit/s stream); the token bucket is
        // the hard bound, asserted on the measured egress below.
        expect((p.forwards + p.players) * bitrate).toBeLessThanOrEqual(n.plan.uploadLimitBps * 1.15);
        expect(p.relayEgressBps).toBeLessThanOrEqual(n.plan.uplinkBps);
        expect(p.uplinkBps).toBeLessThanOrEqual(n.plan.uplinkBps * 1.02);
        // The forwards really cross the shaped uplink (and not the unshaped host link).
        expect(p.uplinkBps).toBeGreaterThanOrEqual(p.relayEgressBps * 0.9);
      }
      // The limit binds: some node (normally the source) is full at 2 copies, forwards and players together
      // (issue 14: one budget). None has more than the 5 s average admits within the tolerance above.
      expect(Math.max(...perNode.map((p) => p.forwards + p.players))).toBeGreaterThanOrEqual(2);
      expect(perNode.slice(1).every((p) => p.players === 1)).toBe(true); // each viewer node: the test's reader
    }),
    180_000,
  );

  it(
    'detects a partition of an interior node (iptables DROP, no process killed) and its descendants get video again within 5 s',
    withLogs(async () => {
      const n = nw();
      const tree = await forwardTree(n, streamId);
      const victim = n.nodes.slice(1).find((x) => (tree.get(x.nodeId) ?? []).length > 0);
      expect(victim).toBeDefined();
      const children = (tree.get(victim!.nodeId) ?? []).map(byId);
      const orphans = descendants(tree, victim!.nodeId).map(byId);
      readers.get(victim!.index)?.close();
      readers.delete(victim!.index);

      partitioned = victim;
      const cutAt = performance.now();
      await n.partition(victim!);
      expect(victim!.process.running).toBe(true);

      // Detected: every child of the victim takes its stream from another node.
      const switched = new Map<string, number>();
      await waitFor(
        async () => {
          for (const c of children) {
            if (switched.has(c.nodeId)) continue;
            const s = (await status(c)).streams.find((x) => x.streamId === streamId);
            if (s?.upstreamNodeId && s.upstreamNodeId !== victim!.nodeId)
              switched.set(c.nodeId, performance.now() - cutAt);
          }
          return switched.size === children.length;
        },
        { timeoutMs: 5000, intervalMs: 100, what: `the children of ${victim!.name} to leave it` },
      );
      // Recovered: after the stall, video flows again at every descendant within 5 s of the cut, and keeps
      // flowing: at least half the nominal 25 frames/s over the two seconds that follow (a re-homed node may
      // take one more short hiccup on a shaped uplink while its new parent catches up, on a loaded host).
      await sleep(Math.max(0, cutAt + 7000 - performance.now()));
      const recovery = orphans.map((o) => {
        const frames = readers.get(o.index)!.videoFrames.filter((f) => f.arrivalMs > cutAt - 1000);
        let gapEnd = cutAt;
        let maxGap = 0;
        for (let k = 1; k < frames.length; k++) {
          const gap = frames[k].arrivalMs - frames[k - 1].arrivalMs;
          if (gap > maxGap) [maxGap, gapEnd] = [gap, frames[k].arrivalMs];
        }
        return {
          node: o.name,
          maxGapMs: Math.round(maxGap),
          recoveredAfterMs: Math.round(Math.max(0, gapEnd - cutAt)),
          framesAfterRecovery: frames.filter((f) => f.arrivalMs > cutAt + 5000).length,
          ended: readers.get(o.index)!.ended,
        };
      });
      console.log(
        JSON.stringify({
          partition: {
            victim: victim!.name,
            children: children.map((c) => c.name),
            detectedMs: Object.fromEntries([...switched].map(([id, ms]) => [byId(id).name, Math.round(ms)])),
            recovery,
          },
        }),
      );
      for (const r of recovery) {
        expect(r.ended).toBe(false);
        expect(r.recoveredAfterMs).toBeLessThanOrEqual(5000);
        expect(r.framesAfterRecovery).toBeGreaterThanOrEqual(25);
      }
    }),
    60_000,
  );
});
