import type { ListedStream, PublishReply, WatchReply } from '@astral/contracts';
import {
  FlvTagReader,
  LocalNetwork,
  LocalNode,
  agentApi,
  sampleFlvPath,
  sleep,
  startLocalNetwork,
  waitFor,
} from '@astral/testing';
import { FlvFilePublisher } from '@astral/media';

/**
 * The warm standby, the agent's side (docs/OVERLAY.md "Hitless failover (warm standby): the agent's
 * side"): S publishes and can forward twice; B1 and B2 pull from S; W runs with ASTRAL_STANDBY=players.
 * W holds two tickets, on B1 and B2 (disjoint paths below S). W's primary upstream is SIGKILLed: W's relay
 * splices to the standby, the agent promotes it (the same ticket is now the primary), finds a new standby,
 * and W's player keeps playing. (The frame-accurate check of the splice is test/standby.e2e-spec.ts.)
 */
describe('warm standby: the agent holds, promotes and replaces its standby', () => {
  let net: LocalNetwork;
  let publisher: FlvFilePublisher | null = null;
  let stream: PublishReply;
  const [S, B1, B2, W] = [0, 1, 2, 3];
  const node = (i: number) => net.nodes[i];
  const byId = (id: string | null | undefined): LocalNode | undefined =>
    net.nodes.find((n) => n.nodeId === id);
  const carried = async (i: number) =>
    (await agentApi<ListedStream[]>(node(i), 'GET', '/api/streams')).find(
      (s) => s.streamId === stream.streamId,
    );

  beforeAll(async () => {
    // The sample is ~1.05 Mbit/s on the wire: 2.5 Mbit/s at S admits two forwards, not three.
    net = await startLocalNetwork({
      nodes: [
        { uploadLimit: '2.5mbit' },
        { uploadLimit: '8mbit' },
        { uploadLimit: '8mbit' },
        { uploadLimit: '8mbit', env: { ASTRAL_STANDBY: 'players', ASTRAL_STANDBY_MODE: 'receiving' } },
      ],
      heartbeatMs: 1000,
    });
  }, 200_000);

  afterAll(async () => {
    await publisher?.stop().catch(() => undefined);
    await net?.stop();
  }, 60_000);

  it('holds two tickets on disjoint paths, promotes the standby when the primary upstream is killed, and finds a new one', async () => {
    try {
      stream = await agentApi<PublishReply>(node(S), 'POST', '/api/streams', { title: 'Standby test' });
      publisher = new FlvFilePublisher({ file: sampleFlvPath(), url: stream.publishUrl });
      await publisher.start();
      const watchFromS = async (b: number) => {
        const reply = await waitFor(
          () =>
            agentApi<WatchReply>(node(b), 'POST', `/api/streams/${stream.streamId}/watch`).catch(() => null),
          { timeoutMs: 20_000, intervalMs: 500, what: `node ${b} to get a ticket from S` },
        );
        expect(reply.upstreamNodeId).toBe(node(S).nodeId);
      };
      await watchFromS(B1);
      // B2 below S too, not below B1 (a carrier is always preferred to the source): B1 forwards nothing
      // while B2 gets its ticket.
      const setLimit = (i: number, uploadLimit: string) =>
        agentApi(node(i), 'PATCH', '/api/settings', { uploadLimit });
      await setLimit(B1, '0');
      await watchFromS(B2);
      await setLimit(B1, '8mbit');
      await sleep(1500); // S's relay measures the two forwards it serves: it is full now

      const watched = await agentApi<WatchReply>(node(W), 'POST', `/api/streams/${stream.streamId}/watch`);
      expect([node(B1).nodeId, node(B2).nodeId]).toContain(watched.upstreamNodeId);
      const both = await waitFor(
        async () => {
          const c = await carried(W);
          return c?.standby ? c : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'W to hold a standby ticket' },
      );
      const primaryUp = both.upstreamNodeId!;
      const standbyUp = both.standby!.upstreamNodeId;
      expect(standbyUp).not.toBe(primaryUp);
      expect([node(B1).nodeId, node(B2).nodeId]).toContain(standbyUp);
      // Disjoint below the source: the two paths share S and W only.
      const shared = both.path.filter((id) => both.standby!.path.includes(id));
      expect(shared.sort()).toEqual([node(S).nodeId, node(W).nodeId].sort());

      const reader = await FlvTagReader.open(node(W).playUrls(stream.streamId).httpFlv);
      await waitFor(() => reader.videoFrames.length > 50, { timeoutMs: 15_000, what: 'W to play' });

      const killedAt = performance.now();
      byId(primaryUp)!.kill('SIGKILL');
      // Promoted: the standby's own ticket is the primary now (no new ticket was negotiated for it).
      const promoted = await waitFor(
        async () => {
          const c = await carried(W);
          return c?.upstreamNodeId === standbyUp ? c : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100, what: "W's standby to be promoted" },
      );
      expect(promoted.ticketId).toBe(both.standby!.ticketId);
      expect(promoted.path).toEqual(both.standby!.path);

      // A new standby, neither the promoted primary nor the dead node (S, once its forward to the dead
      // node has closed and freed its upload).
      const again = await waitFor(
        async () => {
          const c = await carried(W);
          return c?.standby && c.standby.upstreamNodeId !== primaryUp ? c : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'W to find a new standby' },
      );
      expect(again.upstreamNodeId).toBe(standbyUp);
      expect(again.standby!.upstreamNodeId).not.toBe(standbyUp);
      expect(again.standby!.upstreamNodeId).toBe(node(S).nodeId);

      // The player never stopped: frames kept arriving after the kill, on the same connection.
      await sleep(2000);
      const after = reader.videoFrames.filter((f) => f.arrivalMs > killedAt).length;
      reader.close();
      console.log(
        JSON.stringify({ framesAfterKill: after, primaryUp, standbyUp, newStandby: again.standby }),
      );
      expect(after).toBeGreaterThan(25);
    } catch (err) {
      console.log(net.logs(4000));
      throw err;
    }
  }, 150_000);
});
