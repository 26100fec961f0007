import type { PublishReply, WatchReply } from '@astral/contracts';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ClientProxy } from '@nestjs/microservices';
import Redis from 'ioredis';
import { AgentPatterns, AstralError, RelayStats, addressed, fromSender } from '@astral/contracts';
import { PeerClient, claimingBusClient, request } from '@astral/transport';
import {
  FlvTagReader,
  HttpJsonError,
  LocalNetwork,
  ffprobe,
  httpJson,
  sampleFlvPath,
  sleep,
  startLocalNetwork,
  waitFor,
  agentApi,
  PublishedFrame,
  publishSample,
} from '@astral/testing';
import { FlvFilePublisher } from '@astral/media';

/**
 * The foundation path, end to end with real parts: A publishes, B pulls from A, C pulls from B because
 * A's upload limit admits one forward only; players at C decode H.264 and AAC over RTMP and HTTP-FLV.
 */
describe('A → B → C chain', () => {
  let net: LocalNetwork;
  let publisher: FlvFilePublisher | null = null;
  let stream: PublishReply;
  const published: PublishedFrame[] = [];

  beforeAll(async () => {
    // The sample is ~1.05 Mbit/s on the wire: 1.5 Mbit/s admits one forward, not two.
    net = await startLocalNetwork({
      nodes: [{ uploadLimit: '1.5mbit' }, { uploadLimit: '4mbit' }, { uploadLimit: '4mbit' }],
    });
  }, 200_000);

  afterAll(async () => {
    await publisher?.stop().catch(() => undefined);
    await net?.stop();
  }, 60_000);

  const [A, B, C] = [0, 1, 2];
  const node = (i: number) => net.nodes[i];

  it('builds the chain and delivers at least 95% of the frames to C', async () => {
    try {
      stream = await agentApi<PublishReply>(node(A), 'POST', `/api/streams`, { title: 'Chain test' });
      publisher = await publishSample(stream.publishUrl, published);

      const watchB = await waitFor(
        () =>
          agentApi<WatchReply>(node(B), 'POST', `/api/streams/${stream.streamId}/watch`).catch(() => null),
        { timeoutMs: 20_000, intervalMs: 500, what: 'B to get a ticket' },
      );
      expect(watchB.upstreamNodeId).toBe(node(A).nodeId);
      expect(watchB.hops).toBe(1);
      // Give A's relay a moment to measure the forward it now serves.
      await sleep(1500);
      const watchC = await agentApi<WatchReply>(node(C), 'POST', `/api/streams/${stream.streamId}/watch`);
      expect(watchC.upstreamNodeId).toBe(node(B).nodeId);
      expect(watchC.hops).toBe(2);

      const reader = await FlvTagReader.open(node(C).playUrls(stream.streamId).httpFlv);
      await waitFor(() => reader.videoFrames.length > 0, { timeoutMs: 10_000, what: 'a first frame at C' });
      const t0 = Date.now();
      await sleep(10_000);
      const t1 = Date.now();
      await sleep(2000); // let the last frames of the window cross the two hops
      reader.close();
      const sent = published.filter((p) => p.at >= t0 && p.at < t1).map((p) => p.ts);
      const received = new Set(reader.videoTimestamps);
      const delivered = sent.filter((ts) => received.has(ts)).length;
      const ratio = delivered / sent.length;
      console.log(
        JSON.stringify({ framesPublished: sent.length, framesDeliveredAtC: delivered, deliveryRatio: ratio }),
      );
      expect(sent.length).toBeGreaterThan(200);
      expect(ratio).toBeGreaterThanOrEqual(0.95);
    } catch (err) {
      console.log(net.logs(3000));
      throw err;
    }
  }, 120_000);

  it('decodes H.264 video and AAC audio at C over HTTP-FLV and RTMP', async () => {
    const urls = node(C).playUrls(stream.streamId);
    for (const url of [urls.httpFlv, urls.rtmp]) {
      const probe = await ffprobe(url, { readSeconds: 3, timeoutMs: 30_000 });
      const video = probe.streams.find((s) => s.codec_type === 'video');
      const audio = probe.streams.find((s) => s.codec_type === 'audio');
      expect(video?.codec_name).toBe('h264');
      expect(audio?.codec_name).toBe('aac');
      expect(video?.nb_read_frames).toBeGreaterThan(25);
      expect(audio?.nb_read_frames).toBeGreaterThan(25);
    }
  }, 90_000);

  it("A's relay serves exactly one forward connection", async () => {
    const stats = await httpJson<RelayStats>('GET', node(A).forwardStatsUrl);
    const s = stats.streams.find((x) => x.streamId === stream.streamId);
    expect(s?.origin).toBe('publish');
    expect(s?.forwards).toHaveLength(1);
    expect(s?.forwards[0].downstreamNodeId).toBe(node(B).nodeId);
  });

  describe('bad input', () => {
    it('refuses a publish with a wrong or missing key, logs why, and keeps running', async () => {
      const wrongKey = stream.publishUrl.replace(/key=[^&]+/, 'key=not-the-key');
      const noKey = stream.publishUrl.replace(/\?key=[^&]+/, '');
      for (const url of [wrongKey, noKey]) {
        const p = new FlvFilePublisher({ file: sampleFlvPath(), url, durationSec: 5 });
        p.on('error', () => undefined);
        await p.start().catch(() => undefined);
        await expect(p.done).rejects.toThrow();
        await p.stop().catch(() => undefined);
      }
      // A real RTMP publisher with a wrong key is refused too.
      const rtmpWrong = stream.rtmpUrl.replace(/key=[^&]+/, 'key=wrong');
      const code = await new Promise<number | null>((resolve) => {
        execFile(
          'ffmpeg',
          ['-v', 'error', '-re', '-i', sampleFlvPath(), '-t', '5', '-c', 'copy', '-f', 'flv', rtmpWrong],
          { timeout: 20_000 },
          (err) => resolve(err ? ((err as { code?: number }).code ?? -1) : 0),
        );
      });
      expect(code).not.toBe(0);
      const log = readFileSync(node(A).logFile, 'utf8');
      expect(log).toMatch(
        /"reason":"wrong stream key".*"msg":"publish refused"|publish refused.*wrong stream key/,
      );
      expect(log).toMatch(/no stream key given/);
      expect(log).not.toContain('not-the-key');
      expect(log).not.toContain(stream.key);
      // The real stream still flows through A.
      const stats = await httpJson<RelayStats>('GET', node(A).forwardStatsUrl);
      expect(stats.streams.find((x) => x.streamId === stream.streamId)?.bitrateBps).toBeGreaterThan(0);
    }, 60_000);

    it('answers a watch of an unknown stream with 404 and a JSON error', async () => {
      const err = await agentApi(node(B), 'POST', `/api/streams/no-such-stream/watch`).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HttpJsonError);
      expect((err as HttpJsonError).status).toBe(404);
      expect((err as HttpJsonError).body).toMatchObject({ status: 404, error: 'not-found' });
    });

    it('rejects a malformed Redis message with a validation error and keeps the agent running', async () => {
      const client: ClientProxy = claimingBusClient({ url: net.redisUrl });
      const raw = new Redis(net.redisUrl);
      try {
        const channel = addressed(AgentPatterns.TicketRequest, node(A).nodeId);
        const requesterId = '00000000-0000-4000-8000-000000000001';
        const bad = await request(client, channel, { streamId: 'X!', requesterId }, 3000).catch(
          (e: unknown) => e,
        );
        expect(bad).toBeInstanceOf(AstralError);
        expect((bad as AstralError).status).toBe(400);
        expect(Object.keys((bad as AstralError).fields ?? {})).toEqual(['streamId']);
        // A requester that is not a node id cannot be the sender: refused before validation.
        await expect(
          request(client, channel, { streamId: 'X!', requesterId: 'nobody' }, 3000),
        ).rejects.toMatchObject({ status: 403 });
        await raw.publish(channel, 'this is not json');
        await raw.publish(fromSender(channel, requesterId), 'this is not json');
        await raw.publish(channel, JSON.stringify({ id: 'x', pattern: channel, data: null }));
        await raw.publish(addressed(AgentPatterns.RelayStats, node(A).nodeId), '{"data":{"nodeId":1}}');
        await sleep(300);
        // Still answering: a well-formed request from an unknown node is refused, not crashed on.
        const peers = new PeerClient(client, 3000);
        const refused = await peers
          .requestTicket(node(A).nodeId, {
            streamId: stream.streamId,
            requesterId: '00000000-0000-4000-8000-000000000000',
          })
          .catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(AstralError);
        expect((refused as AstralError).status).toBe(403);
        expect(node(A).process.running).toBe(true);
        await httpJson('GET', `${node(A).apiUrl}/api/status`);
      } finally {
        raw.disconnect();
        await client.close();
      }
    }, 30_000);
  });
});
