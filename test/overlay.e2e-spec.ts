import { ClientProxy } from '@nestjs/microservices';
import { AstralError, NodeInfo, NodesReply, NodeStatus, PublishReply, RelayStats } from '@astral/contracts';
import { PeerClient, claimingBusClient } from '@astral/transport';
import {
  FlvTagReader,
  LocalNetwork,
  LocalNode,
  deliveryRatios,
  descendants,
  forwardTree,
  httpJson,
  sleep,
  startLocalNetwork,
  waitFor,
  watchAtEveryViewer,
  agentApi,
  withFailureLogs,
  PublishedFrame,
  publishSample,
} from '@astral/testing';
import { FlvFilePublisher } from '@astral/media';

/** 2 streams of the ~1.05 Mbit/s sample fit in 2.5 Mbit/s; 3 do not. */
const TWO_STREAMS = '2.5mbit';
const N = 10;
/** Members a supernode accepts (ASTRAL_MAX_CHILDREN of every node). */
const MAX_CHILDREN = 3;

/**
 * The overlay with real processes: a tree that builds itself within every node's upload limit, and
 * heals when nodes crash, leave, or when supernodes vanish, or Redis restarts.
 */
describe('Overlay', () => {
  let net: LocalNetwork;
  let publisher: FlvFilePublisher;
  let streamId: string;
  let client: ClientProxy;
  const readers = new Map<number, FlvTagReader>();
  let crashed: LocalNode | undefined;
  const published: PublishedFrame[] = [];

  const stats = (n: LocalNode) => httpJson<RelayStats>('GET', n.forwardStatsUrl);
  const status = (n: LocalNode) => httpJson<NodeStatus>('GET', `${n.apiUrl}/api/status`);
  const byId = (id: string) => net.nodes.find((n) => n.nodeId === id)!;

  const tree = () => forwardTree(net, streamId);
  /** A node's membership view: its role, its supernode and (as a supernode) the ids of its members. */
  const membership = (n: LocalNode) => httpJson<NodesReply>('GET', `${n.apiUrl}/api/nodes`);
  /** The statuses of the given nodes once none of them is still joining. */
  const settledRoles = (nodes: LocalNode[]) =>
    waitFor(
      async () => {
        const all = await Promise.all(nodes.map((n) => status(n)));
        return all.every((s) => s.role !== 'joining') ? all : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 250, what: 'every node to be a member or a supernode' },
    );

  /** Every given node's player has received a frame newer than `sinceMs` (performance.now()). */
  async function receivingAgain(indexes: number[], sinceMs: number, timeoutMs: number): Promise<number> {
    const started = performance.now();
    await waitFor(
      () => indexes.every((i) => readers.get(i)!.videoFrames.some((f) => f.arrivalMs > sinceMs)),
      {
        timeoutMs,
        intervalMs: 50,
        what: `video again at nodes ${indexes.map((i) => i + 1).join(', ')}`,
      },
    );
    return performance.now() - started;
  }

  /** Runs a test body; on failure saves every process's log and prints the tails. */
  const withLogs = withFailureLogs('overlay', () => net);

  beforeAll(async () => {
    net = await startLocalNetwork({
      // Supernodes take 3 members each, so a 10-node network has several supernodes.
      nodes: Array.from({ length: N }, () => ({
        uploadLimit: TWO_STREAMS,
        env: { ASTRAL_MAX_CHILDREN: String(MAX_CHILDREN) },
      })),
      heartbeatMs: 1000,
    });
    client = claimingBusClient({ url: net.redisUrl });
    const created = await agentApi<PublishReply>(net.nodes[0], 'POST', `/api/streams`, {
      title: 'Overlay',
    });
    streamId = created.streamId;
    publisher = await publishSample(created.publishUrl, published);
  }, 240_000);

  afterAll(async () => {
    for (const r of readers.values()) r.close();
    await publisher?.stop().catch(() => undefined);
    await client?.close();
    await net?.stop();
  }, 60_000);

  it('builds a tree within every upload limit and delivers ≥ 95% of frames to all 9 viewers', async () => {
    try {
      await watchAtEveryViewer(net.nodes, streamId, readers, { ticketMs: 20_000, framesMs: 15_000 });
      const t0 = Date.now();
      await sleep(8000);
      const t1 = Date.now();
      await sleep(2000);
      const sent = published.filter((p) => p.at >= t0 && p.at < t1).map((p) => p.ts);
      const ratios = deliveryRatios(sent, readers);
      console.log(JSON.stringify({ framesPublished: sent.length, ratios }));
      for (const r of ratios) expect(r.ratio).toBeGreaterThanOrEqual(0.95);

      const t = await tree();
      for (const children of t.values()) expect(children.length).toBeLessThanOrEqual(2);
      expect(descendants(t, net.nodes[0].nodeId)).toHaveLength(N - 1);
      // Never from the source when others can serve: after the first viewer, every viewer found another
      // node with room, so the source feeds one child and keeps its second slot free for failover.
      expect(t.get(net.nodes[0].nodeId)).toHaveLength(1);
      // The source uploads at most two copies (plus 10%), measured over 5 s against the stream's bit rate.
      const sentBy = (s: RelayStats) =>
        s.streams.find((x) => x.streamId === streamId)!.forwards.reduce((n, f) => n + f.bytesSent, 0);
      const a = await stats(net.nodes[0]);
      const ta = performance.now();
      await sleep(5000);
      const b = await stats(net.nodes[0]);
      const egressBps = ((sentBy(b) - sentBy(a)) * 8000) / (performance.now() - ta);
      const bitrate = b.streams.find((s) => s.streamId === streamId)!.bitrateBps;
      console.log(JSON.stringify({ sourceEgressBps: Math.round(egressBps), bitrateBps: bitrate }));
      expect(egressBps).toBeLessThanOrEqual(2 * bitrate * 1.1);
    } catch (err) {
      console.log(net.logs(2500));
      throw err;
    }
  }, 180_000);

  it(
    'keeps every supernode within its cap of 3: the nodes beyond it are elsewhere, and a full supernode refuses a join',
    withLogs(async () => {
      const everyone = await settledRoles(net.nodes);
      const supernodeIds = everyone.filter((s) => s.role === 'supernode').map((s) => s.nodeId);
      const naming = (id: string) =>
        everyone.filter((s) => s.role === 'member' && s.supernodeId === id).map((s) => s.nodeId);
      console.log(
        JSON.stringify({
          supernodes: supernodeIds.map((id) => ({
            node: byId(id).index + 1,
            members: naming(id).map((m) => byId(m).index + 1),
          })),
        }),
      );
      // Every member names a supernode; no supernode holds more than its cap, by its own list or by its members'.
      for (const s of everyone.filter((x) => x.role === 'member'))
        expect(supernodeIds).toContain(s.supernodeId);
      for (const id of supernodeIds) {
        const own = await membership(byId(id));
        expect(own.members.length).toBeLessThanOrEqual(MAX_CHILDREN);
        expect([...own.members].sort()).toEqual(naming(id).sort());
      }
      // 10 nodes, at most 3 members each: at least 3 supernodes, so the nodes beyond a cap went to another one.
      expect(supernodeIds.length).toBeGreaterThanOrEqual(Math.ceil(N / (MAX_CHILDREN + 1)));
      const listed = await httpJson<
        { nodeId: string; supernode: boolean; childCount: number; maxChildren: number | null }[]
      >('GET', `${net.directoryUrl}/api/nodes`);
      for (const n of listed.filter((x) => x.supernode)) {
        expect(n.maxChildren).toBe(MAX_CHILDREN);
        expect(n.childCount).toBeLessThanOrEqual(MAX_CHILDREN);
      }
      // The join beyond the cap is refused. A supernode with fewer members is made full by lowering its cap
      // to what it holds (members are kept; only new ones are refused), then given its cap back.
      const fullest = [...supernodeIds].sort((a, b) => naming(b).length - naming(a).length)[0];
      const held = naming(fullest).length;
      expect(held).toBeGreaterThan(0);
      const supernode = byId(fullest);
      if (held < MAX_CHILDREN) await agentApi(supernode, 'PATCH', `/api/settings`, { maxChildren: held });
      try {
        const reply = await new PeerClient(client, 2000).join(fullest, {
          nodeId: crypto.randomUUID(),
          host: '127.0.0.1',
          forwardPort: 9,
        });
        expect(reply).toEqual({ refused: `full (${held} members)` });
        expect((await membership(supernode)).members).toHaveLength(held);
      } finally {
        if (held < MAX_CHILDREN)
          await agentApi(supernode, 'PATCH', `/api/settings`, { maxChildren: MAX_CHILDREN });
      }
    }),
    60_000,
  );

  it(
    'heals a crash: every descendant of a SIGKILLed node receives video again, players stay connected',
    withLogs(async () => {
      const t = await tree();
      const victim = net.nodes.slice(1).find((n) => (t.get(n.nodeId) ?? []).length > 0);
      expect(victim).toBeDefined();
      const orphans = descendants(t, victim!.nodeId).map((id) => byId(id).index);
      const killedAt = performance.now();
      victim!.kill('SIGKILL');
      readers.get(victim!.index)?.close();
      readers.delete(victim!.index);
      const recoveryMs = await receivingAgain(orphans, killedAt, 5000);
      console.log(JSON.stringify({ crash: { orphans: orphans.length, recoveryMs: Math.round(recoveryMs) } }));
      for (const i of orphans) expect(readers.get(i)!.ended).toBe(false);
      crashed = victim!;
    }),
    60_000,
  );

  it(
    'after a crash, every path follows the re-parented tree, and the crashed node gets a ticket again',
    withLogs(async () => {
      expect(crashed).toBeDefined();
      // Each node's path (its status) must match the forward tree the relays actually run: a stale path
      // that still names the dead node would refuse it as "a loop" when it comes back.
      const pathsMatchTree = async (): Promise<boolean> => {
        const t = await tree();
        const parent = new Map<string, string>();
        for (const [up, children] of t) for (const c of children) parent.set(c, up);
        const live = net.nodes.slice(1).filter((n) => n.process.running);
        const statuses = await Promise.all(live.map((n) => status(n).catch(() => null)));
        return live.every((n, k) => {
          const path = statuses[k]?.streams.find((x) => x.streamId === streamId)?.path;
          if (!path) return false;
          const real = [n.nodeId];
          for (let id = parent.get(n.nodeId); id !== undefined && real.length <= N; id = parent.get(id))
            real.unshift(id);
          return path.join() === real.join();
        });
      };
      await waitFor(() => pathsMatchTree(), {
        timeoutMs: 10_000,
        intervalMs: 500,
        what: 'every node’s path to match the forward tree',
      });
      await crashed!.process.exited;
      await crashed!.start();
      await waitFor(() => agentApi(crashed!, 'POST', `/api/streams/${streamId}/watch`).catch(() => null), {
        timeoutMs: 20_000,
        intervalMs: 300,
        what: 'the restarted node to get a ticket',
      });
      const r = await FlvTagReader.open(crashed!.playUrls(streamId).httpFlv);
      readers.set(crashed!.index, r);
      await waitFor(() => r.videoFrames.some((f) => f.keyframe), {
        timeoutMs: 15_000,
        what: 'a keyframe at the restarted node',
      });
    }),
    90_000,
  );

  it(
    're-parents descendants before a leaving node closes, with a gap under 2 s (typically well under 1 s; 2 cores under a whole suite once took 1.35 s)',
    withLogs(async () => {
      const t = await tree();
      const leaver = net.nodes.slice(1).find((n) => n.process.running && (t.get(n.nodeId) ?? []).length > 0);
      expect(leaver).toBeDefined();
      const children = (t.get(leaver!.nodeId) ?? []).map((id) => byId(id).index);
      const before = performance.now();
      const stopping = leaver!.stop(15_000);
      readers.get(leaver!.index)?.close();
      readers.delete(leaver!.index);
      await stopping;
      await sleep(1500);
      for (const i of children) {
        const r = readers.get(i)!;
        const frames = r.videoFrames.filter((f) => f.arrivalMs > before - 2000);
        let gap = 0;
        for (let k = 1; k < frames.length; k++)
          gap = Math.max(gap, frames[k].arrivalMs - frames[k - 1].arrivalMs);
        console.log(JSON.stringify({ leave: { child: i + 1, maxGapMs: Math.round(gap) } }));
        expect(r.ended).toBe(false);
        expect(gap).toBeLessThan(2000);
        const s = await status(net.nodes[i]);
        expect(s.streams.find((x) => x.streamId === streamId)?.upstreamNodeId).not.toBe(leaver!.nodeId);
      }
    }),
    60_000,
  );

  it(
    're-homes the members of a crashed supernode to another, pre-existing supernode within 10 s, and the directory lists only live supernodes',
    withLogs(async () => {
      const live = net.nodes.filter((n) => n.process.running);
      const statuses = await settledRoles(live);
      const supernodeIds = statuses.filter((s) => s.role === 'supernode').map((s) => s.nodeId);
      const naming = (id: string) =>
        statuses.filter((s) => s.role === 'member' && s.supernodeId === id).map((s) => byId(s.nodeId));
      // Another supernode must exist before the crash, or failing over to it cannot be shown.
      expect(supernodeIds.length).toBeGreaterThanOrEqual(2);
      // The victim: not the source (its death ends the stream, which is another test's business), and the
      // supernode with the most members.
      const victimId = supernodeIds
        .filter((id) => id !== net.nodes[0].nodeId)
        .sort((a, b) => naming(b).length - naming(a).length)[0];
      expect(victimId).toBeDefined();
      const victim = byId(victimId);
      const members = naming(victimId);
      expect(members.length).toBeGreaterThan(0);
      const others = supernodeIds.filter((id) => id !== victimId);
      // A member promotes itself only when no supernode has room (membership.service.ts); give the others
      // room for every member, so the design says each one joins one of them.
      const caps = new Map(others.map((id) => [id, MAX_CHILDREN]));
      const room = others.reduce((sum, id) => sum + MAX_CHILDREN - naming(id).length, 0);
      if (room < members.length) {
        const roomier = others[0];
        caps.set(roomier, MAX_CHILDREN + members.length - room);
        await agentApi(byId(roomier), 'PATCH', `/api/settings`, { maxChildren: caps.get(roomier) });
      }
      console.log(
        JSON.stringify({
          supernodeCrash: {
            victim: victim.index + 1,
            members: members.map((m) => m.index + 1),
            others: others.map((id) => byId(id).index + 1),
            room,
          },
        }),
      );
      victim.kill('SIGKILL');
      readers.get(victim.index)?.close();
      readers.delete(victim.index);
      const after = await waitFor(
        async () => {
          const now = await Promise.all(members.map((m) => status(m)));
          return now.every(
            (s) => s.role === 'supernode' || (s.supernodeId !== null && s.supernodeId !== victim.nodeId),
          )
            ? now
            : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 250, what: 'members to re-home' },
      );
      // Each joined a supernode that existed before the crash: none promoted itself.
      for (const s of after) {
        expect({ nodeId: s.nodeId, role: s.role }).toEqual({ nodeId: s.nodeId, role: 'member' });
        expect(others).toContain(s.supernodeId);
      }
      for (const id of others)
        expect((await membership(byId(id))).members.length).toBeLessThanOrEqual(caps.get(id)!);
      await waitFor(
        async () => {
          const listed = await httpJson<NodeInfo[]>('GET', `${net.directoryUrl}/api/nodes`);
          const running = new Set(net.nodes.filter((n) => n.process.running).map((n) => n.nodeId));
          return (
            listed.filter((n) => n.supernode).every((n) => running.has(n.nodeId)) &&
            listed.some((n) => n.supernode)
          );
        },
        { timeoutMs: 10_000, intervalMs: 250, what: 'the directory to list only live supernodes' },
      );
    }),
    60_000,
  );

  describe('bad input', () => {
    it(
      'never offers from a node whose upload limit is 0',
      withLogs(async () => {
        const viewer = net.nodes.filter((n) => n.process.running && n.index > 0).at(-1)!;
        const path = (await status(viewer)).streams.find((s) => s.streamId === streamId)?.path ?? [];
        const asker = net.nodes.find(
          (n) => n.process.running && n !== viewer && n.index > 0 && !path.includes(n.nodeId),
        )!;
        await agentApi(viewer, 'PATCH', `/api/settings`, { uploadLimit: '0' });
        try {
          const reply = await new PeerClient(client, 2000).requestTicket(viewer.nodeId, {
            streamId,
            requesterId: asker.nodeId,
          });
          expect(reply).toEqual({ refused: 'no upload headroom' });
          // Forwards it had were ended with a reason (their children re-parent), not starved.
          const forwards = (await stats(viewer)).streams.find((s) => s.streamId === streamId)?.forwards ?? [];
          expect(forwards.filter((f) => f.state !== 'closed')).toHaveLength(0);
        } finally {
          await agentApi(viewer, 'PATCH', `/api/settings`, { uploadLimit: TWO_STREAMS });
        }
      }),
    );

    it('gets a timeout, not a hang, from a peer that never answers', async () => {
      const peers = new PeerClient(client, 800);
      const started = Date.now();
      const err = await peers
        .requestTicket('6f1c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f', { streamId, requesterId: net.nodes[0].nodeId })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AstralError);
      expect((err as AstralError).code).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it(
      'keeps streams flowing while Redis restarts, and the agents reconnect',
      withLogs(async () => {
        const watching = [...readers.keys()];
        const before = performance.now();
        await net.redis!.kill();
        await sleep(3000);
        // Video keeps flowing without Redis: the data plane does not depend on it.
        await receivingAgain(watching, before + 2000, 5000);
        await net.redis!.restart();
        // The agents reconnect: a fresh watch negotiates tickets over Redis again.
        const node = net.nodes.find((n) => n.process.running && n.index > 0 && readers.has(n.index))!;
        await agentApi(node, 'DELETE', `/api/streams/${streamId}/watch`);
        await waitFor(() => agentApi(node, 'POST', `/api/streams/${streamId}/watch`).catch(() => null), {
          timeoutMs: 20_000,
          intervalMs: 500,
          what: 'a watch after Redis came back',
        });
      }),
      60_000,
    );
  });
});
