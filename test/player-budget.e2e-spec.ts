import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  PLAY_TOKEN_PARAM,
  PublishReply,
  RelayPatterns,
  RelayStats,
  WatchReply,
  addressed,
} from '@astral/contracts';
import { PLAY_TOKEN_REFUSALS, generateNodeKeys, signPlayToken } from '@astral/identity';
import { FlvFilePublisher, FlvTag, FlvTagType, clockTagTime, isClockTag } from '@astral/media';
import { claimingBusClient, request } from '@astral/transport';
import {
  FlvTagReader,
  LocalNetwork,
  ManagedProcess,
  agentApi,
  ffprobe,
  sampleFlvPath,
  sleep,
  spawnFfmpegLoopPublisher,
  startLocalNetwork,
  waitFor,
  withLogsOnFailure,
} from '@astral/testing';
import { RawConsumer } from '../bench/lib/raw-consumer';
import { RelayTestbed, TestRelay, sha256Hex, startRelayTestbed } from '../bench/lib/relay-testbed';

/**
 * One upload budget per node, players and forwards together (docs/RELAY.md, "Budget"): real relay processes
 * driven over Redis as their agents would, an ffmpeg RTMP publisher, HTTP-FLV / WS-FLV players, ffprobe.
 * Relay A counts every player as remote (`--local-players none`: all test traffic is loopback); relay L
 * keeps the default, where loopback players are local.
 */
describe('player budget', () => {
  let bed: RelayTestbed;
  let A: TestRelay;
  let B: TestRelay;
  let C: TestRelay;
  let L: TestRelay;
  const streamId = `budget-${randomUUID().slice(0, 8)}`;
  const publishers: ManagedProcess[] = [];
  let bitrateBps = 0;
  let client: ReturnType<typeof claimingBusClient>;

  const setForwardCommitment = (relay: TestRelay, forwardCommittedBps: number) =>
    request(client, addressed(RelayPatterns.SetPlayerBudget, relay.nodeId), { forwardCommittedBps }, 5000);
  const setDirectoryLink = (relay: TestRelay, link: { directoryKey?: string; publicUrl?: string }) =>
    request(client, addressed(RelayPatterns.SetDirectoryLink, relay.nodeId), link, 5000);

  const publishWithFfmpeg = async (relay: TestRelay, id: string): Promise<void> => {
    const key = randomBytes(18).toString('base64url');
    await relay.control.authorizePublish({ streamId: id, keyHash: sha256Hex(key) });
    publishers.push(
      spawnFfmpegLoopPublisher(
        `ffmpeg-${relay.name}`,
        sampleFlvPath(),
        `${relay.rtmpUrl(id)}?key=${key}`,
        join(relay.dataDir, 'ffmpeg.log'),
      ),
    );
  };

  const measured = (relay: TestRelay, id: string) =>
    waitFor(
      async () => {
        const s = (await relay.stats()).streams.find((x) => x.streamId === id);
        return s && s.bitrateBps > 0 && s.keyframeIntervalMs !== null ? s : false;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: `${id} measured at ${relay.name}` },
    );

  beforeAll(async () => {
    bed = await startRelayTestbed();
    client = claimingBusClient({ url: bed.redis.url });
    A = await bed.startRelay('relayA', { env: { ASTRAL_LOCAL_PLAYERS: 'none' } });
    B = await bed.startRelay('relayB');
    C = await bed.startRelay('relayC');
    L = await bed.startRelay('relayL');
    await publishWithFfmpeg(A, streamId);
    await measured(A, streamId);
    await sleep(3000); // a few seconds of the meter's window
    bitrateBps = (await measured(A, streamId)).bitrateBps;
    console.log(JSON.stringify({ measuredBitrateBps: bitrateBps }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(publishers.map((p) => p.stop('SIGTERM', 5000)));
    await client?.close();
    await bed?.stop();
  }, 60_000);

  const failWithLogs = (body: () => Promise<void>): Promise<void> =>
    withLogsOnFailure(() => bed.logs(4000), body);

  const stats = async (relay: TestRelay, id = streamId): Promise<RelayStats['streams'][number]> =>
    (await relay.stats()).streams.find((s) => s.streamId === id)!;

  it('a node whose limit fits one copy admits one remote player, refuses the second (503, then 302 once it knows the directory)', async () => {
    await failWithLogs(async () => {
      await A.control.setUploadLimit({ uploadLimitBps: Math.round(1.5 * bitrateBps) });
      await setForwardCommitment(A, 0);
      await setDirectoryLink(A, {});
      const first = await FlvTagReader.open(A.httpFlvUrl(streamId));
      try {
        await first.waitForFrames(10, 15_000);
        await waitFor(async () => (await stats(A)).players === 1, {
          timeoutMs: 5000,
          what: 'one remote player counted at A',
        });
        const refused = await fetch(A.httpFlvUrl(streamId), { redirect: 'manual' });
        expect(refused.status).toBe(503);
        const body = (await refused.json()) as { status: number; error: string; message: string };
        expect(body).toMatchObject({ status: 503, error: 'unavailable' });
        expect(body.message).toMatch(/upload is full.*ask the directory for a placement/);
        const head = await fetch(A.httpFlvUrl(streamId), { method: 'HEAD', redirect: 'manual' });
        expect(head.status).toBe(503);
        // WS-FLV: the upgrade is refused with the same status.
        const wsStatus = await new Promise<number>((resolve) => {
          const ws = new WebSocket(A.httpFlvUrl(streamId).replace('http:', 'ws:'));
          ws.on('unexpected-response', (_req, res) => {
            resolve(res.statusCode ?? 0);
            ws.terminate();
          });
          ws.on('open', () => {
            resolve(101);
            ws.close();
          });
          ws.on('error', () => undefined);
        });
        expect(wsStatus).toBe(503);
        await waitFor(() => /"msg":"player refused"/.test(readFileSync(A.logFile, 'utf8')), {
          timeoutMs: 5000,
          what: 'a refusal log line',
        });
        // An RTMP player is refused at the play command, with the reason in its status and a log line.
        const rtmp = await new Promise<{ failed: boolean; stderr: string }>((resolve) => {
          execFile(
            'ffprobe',
            ['-v', 'error', '-rw_timeout', '10000000', A.rtmpUrl(streamId)],
            { timeout: 30_000, killSignal: 'SIGKILL' },
            (err, _stdout, stderr) => resolve({ failed: err !== null, stderr }),
          );
        });
        expect(rtmp.failed).toBe(true);
        await waitFor(() => /"protocol":"rtmp","refusal":"full"/.test(readFileSync(A.logFile, 'utf8')), {
          timeoutMs: 5000,
          what: 'the RTMP refusal logged',
        });
        // Knowing the directory's public URL, the full node redirects to a placement elsewhere.
        await setDirectoryLink(A, { publicUrl: 'http://127.0.0.1:9' });
        const redirected = await fetch(A.httpFlvUrl(streamId), { redirect: 'manual' });
        expect(redirected.status).toBe(302);
        expect(redirected.headers.get('location')).toBe(
          `http://127.0.0.1:9/streams/${streamId}/play.flv?exclude=${A.nodeId}`,
        );
        // The first player still plays; once it leaves, a new one is admitted.
        expect(first.ended).toBe(false);
      } finally {
        first.close();
        await setDirectoryLink(A, {});
      }
      await waitFor(async () => (await stats(A)).players === 0, { timeoutMs: 5000, what: 'the slot freed' });
      const again = await FlvTagReader.open(A.httpFlvUrl(streamId));
      await again.waitForFrames(5, 15_000);
      again.close();
      expect((await A.stats()).playersRefused).toBeGreaterThanOrEqual(4);
    });
  }, 90_000);

  it('serves a loopback player on a node with no upload at all, without counting it', async () => {
    await failWithLogs(async () => {
      const id = `${streamId}-local`;
      await publishWithFfmpeg(L, id);
      await measured(L, id);
      await L.control.setUploadLimit({ uploadLimitBps: 0 });
      const reader = await FlvTagReader.open(L.httpFlvUrl(id));
      try {
        await reader.waitForFrames(10, 15_000);
        const s = await stats(L, id);
        expect(s.localPlayers).toBe(1);
        expect(s.players).toBe(0);
        expect((await L.stats()).playerCommittedBps).toBe(0);
      } finally {
        reader.close();
      }
    });
  }, 90_000);

  it('keeps forwards and players together within the limit: egress over 10 s within 5 %', async () => {
    await failWithLogs(async () => {
      const limit = Math.round(2.5 * bitrateBps);
      await A.control.setUploadLimit({ uploadLimitBps: limit });
      // Forwards the agent has not counted (as if its word were late): they want 2 copies, a player 1 more.
      await setForwardCommitment(A, 0);
      const player = await RawConsumer.open(A.httpFlvUrl(streamId));
      const forwards: RawConsumer[] = [];
      try {
        for (let i = 0; i < 2; i++) {
          const f = await A.admit(streamId);
          forwards.push(await RawConsumer.open(f.url, undefined, f.headers()));
        }
        await sleep(3000); // past the joins' GOP bursts
        const all = [player, ...forwards];
        const total = (): number => all.reduce((n, c) => n + c.bytes, 0);
        const t0 = performance.now();
        const b0 = total();
        const p0 = player.bytes;
        await sleep(10_000);
        const seconds = (performance.now() - t0) / 1000;
        const rate = ((total() - b0) * 8) / seconds;
        const playerRate = ((player.bytes - p0) * 8) / seconds;
        const s = await A.stats();
        console.log(JSON.stringify({ limit, rate, ratio: rate / limit, playerRate, playerBps: s.playerBps }));
        expect(rate / limit).toBeLessThan(1.05);
        expect(rate / limit).toBeGreaterThan(0.85); // the forwards take what the player leaves
        // The player is never held back: it gets the stream's whole rate.
        expect(playerRate).toBeGreaterThan(0.8 * bitrateBps);
        expect(player.ended).toBe(false);
      } finally {
        player.close();
        for (const f of forwards) f.close();
      }
    });
  }, 90_000);

  it('refuses a bad play token with 403 and its reason; the right token plays and counts as placed', async () => {
    await failWithLogs(async () => {
      const directory = generateNodeKeys();
      await A.control.setUploadLimit({});
      await setDirectoryLink(A, { directoryKey: directory.publicKey });
      const claims = { placementId: 'p-1', streamId, nodeId: A.nodeId, expiresAt: Date.now() + 60_000 };
      const forged = signPlayToken(generateNodeKeys(), claims);
      const elsewhere = signPlayToken(directory, { ...claims, nodeId: B.nodeId });
      const url = (token: string) => `${A.httpFlvUrl(streamId)}?${PLAY_TOKEN_PARAM}=${token}`;
      for (const [token, reason] of [
        [forged, PLAY_TOKEN_REFUSALS['bad-signature']],
        [elsewhere, PLAY_TOKEN_REFUSALS['wrong-node']],
        ['garbage', PLAY_TOKEN_REFUSALS['bad-format']],
      ]) {
        const res = await fetch(url(token));
        expect(res.status).toBe(403);
        expect(((await res.json()) as { message: string }).message).toBe(reason);
      }
      const good = await FlvTagReader.open(url(signPlayToken(directory, claims)));
      try {
        await good.waitForFrames(10, 15_000);
        await waitFor(async () => (await stats(A)).placedPlayers === 1, {
          timeoutMs: 5000,
          what: 'the placed player counted',
        });
      } finally {
        good.close();
      }
      const log = readFileSync(A.logFile, 'utf8');
      expect(log).toMatch(/"refusal":"bad-token"/);
      expect(log).not.toContain(forged); // tokens never reach the log
    });
  }, 90_000);

  it('stamps onAstralClock at the source about once a second; a player two hops below gets it; ffprobe and ffmpeg play the stamped stream', async () => {
    await failWithLogs(async () => {
      await A.control.setUploadLimit({});
      await setDirectoryLink(A, {});
      await bed.pull(B, A, streamId);
      await B.waitForTagsIn(streamId, 60, { timeoutMs: 20_000, what: 'the stream at B' });
      await bed.pull(C, B, streamId);
      await C.waitForTagsIn(streamId, 60, { timeoutMs: 20_000, what: 'the stream at C' });
      const stamps: { wallClockMs: number; ts: number; at: number }[] = [];
      let lastMediaTs = 0;
      const reader = await FlvTagReader.open(`${C.httpFlvUrl(streamId)}?clock=1`, (tag: FlvTag) => {
        if (isClockTag(tag))
          stamps.push({ wallClockMs: clockTagTime(tag)!, ts: tag.timestamp, at: Date.now() });
        else if (tag.type !== FlvTagType.Script) lastMediaTs = tag.timestamp;
      });
      try {
        await sleep(8000);
        expect(stamps.length).toBeGreaterThanOrEqual(5);
        expect(stamps.length).toBeLessThanOrEqual(10);
        for (const s of stamps) {
          // One machine, one clock: the stamp is in the past, and not by much (a loaded machine: seconds).
          expect(s.at - s.wallClockMs).toBeGreaterThanOrEqual(0);
          expect(s.at - s.wallClockMs).toBeLessThan(5000);
        }
        const gaps = stamps.slice(1).map((s, i) => s.wallClockMs - stamps[i].wallClockMs);
        for (const g of gaps) expect(g).toBeGreaterThan(500);
        // On the stream's timeline: stamps advance with the media.
        for (let i = 1; i < stamps.length; i++) expect(stamps[i].ts).toBeGreaterThanOrEqual(stamps[i - 1].ts);
        expect(Math.abs(stamps[stamps.length - 1].ts - lastMediaTs)).toBeLessThan(5000);
        console.log(
          JSON.stringify({ stampsIn8s: stamps.length, latencyMs: stamps.map((s) => s.at - s.wallClockMs) }),
        );
      } finally {
        reader.close();
      }
      // Players that know nothing of the stamp are not disturbed by it.
      const probed = await ffprobe(C.httpFlvUrl(streamId), { readSeconds: 3, timeoutMs: 30_000 });
      const video = probed.streams.find((s) => s.codec_type === 'video');
      expect(video?.codec_name).toBe('h264');
      expect(Number(video?.nb_read_frames)).toBeGreaterThan(30);
      expect(probed.streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('aac');
      // A player that did not ask for the stamps (?clock=1) gets none: ffprobe sees audio and video only.
      expect(probed.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
      // Its twin, asking for them, sees them as the data stream ffmpeg makes of unknown script tags.
      const withClock = await ffprobe(`${C.httpFlvUrl(streamId)}?clock=1`, {
        readSeconds: 3,
        timeoutMs: 30_000,
      });
      expect(withClock.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'data', 'video']);
      const decoded = await new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(
          'ffmpeg',
          ['-v', 'error', '-rw_timeout', '10000000', '-i', C.rtmpUrl(streamId), '-t', '3', '-f', 'null', '-'],
          { timeout: 30_000, killSignal: 'SIGKILL' },
          (err, _stdout, stderr) => resolve({ code: err ? 1 : 0, stderr }),
        );
      });
      expect(decoded).toEqual({ code: 0, stderr: '' });
    });
  }, 120_000);
});

/**
 * The agent's half of the budget, with real agents and relays (LocalNetwork): the agent tells its relay what
 * forward tickets hold, so the relay refuses a player the forwards leave no room for; and the agent's ticket
 * admission counts the players its relay admitted, so a third node is sent down the tree instead.
 */
describe('player budget with agents', () => {
  let net: LocalNetwork;
  let publisher: FlvFilePublisher | null = null;
  const readers: FlvTagReader[] = [];

  beforeAll(async () => {
    // The sample is ~1.05 Mbit/s on the wire: 2.6 Mbit/s fits two copies, not three.
    net = await startLocalNetwork({
      nodes: [
        // Every loopback player counts here, so the source's own preview grabber (an ffmpeg on loopback) would
        // take one of its two copies: previews are off on it.
        { uploadLimit: '2.6mbit', env: { ASTRAL_LOCAL_PLAYERS: 'none', ASTRAL_PREVIEWS: 'off' } },
        { uploadLimit: '4mbit' },
        { uploadLimit: '4mbit' },
      ],
    });
  }, 200_000);

  afterAll(async () => {
    for (const r of readers) r.close();
    await publisher?.stop().catch(() => undefined);
    await net?.stop();
  }, 60_000);

  const node = (i: number) => net.nodes[i];
  const relayStats = async (i: number): Promise<RelayStats> =>
    (await (await fetch(node(i).forwardStatsUrl)).json()) as RelayStats;

  it('one forward and one player fill the source; the next player is refused and the next node placed below', async () => {
    await withLogsOnFailure(
      () => net.logs(4000),
      async () => {
        const stream = await agentApi<PublishReply>(node(0), 'POST', '/api/streams', { title: 'Budget' });
        publisher = new FlvFilePublisher({ file: sampleFlvPath(), url: stream.publishUrl });
        await publisher.start();
        const id = stream.streamId;
        const watch1 = await waitFor(
          () => agentApi<WatchReply>(node(1), 'POST', `/api/streams/${id}/watch`).catch(() => null),
          { timeoutMs: 30_000, intervalMs: 500, what: 'node2 to get a ticket' },
        );
        expect(watch1.upstreamNodeId).toBe(node(0).nodeId);
        await waitFor(async () => ((await relayStats(0)).forwardCommittedBps ?? 0) > 500_000, {
          timeoutMs: 10_000,
          what: "the source's relay to hear the forward commitment from its agent",
        });
        // One player fits beside the forward.
        const player = await FlvTagReader.open(node(0).playUrls(id).httpFlv);
        readers.push(player);
        await player.waitForFrames(5, 15_000);
        // A second does not: the relay counts the forward its agent promised. It knows the directory (from
        // its registration reply), so it sends the player there to be placed, excluding itself.
        const refused = await fetch(node(0).playUrls(id).httpFlv, { redirect: 'manual' });
        expect(refused.status).toBe(302);
        expect(refused.headers.get('location')).toBe(
          `${net.directoryUrl}/streams/${id}/play.flv?exclude=${node(0).nodeId}`,
        );
        await refused.body?.cancel();
        // The directory places it on the second node, which has room, and the redirected player plays there.
        const placed = await fetch(refused.headers.get('location')!, { redirect: 'manual' });
        expect(placed.status).toBe(302);
        await placed.body?.cancel();
        const target = new URL(placed.headers.get('location')!);
        expect(`${target.origin}${target.pathname}`).toBe(node(1).playUrls(id).httpFlv);
        expect(target.searchParams.get('play')).toBeTruthy();
        const elsewhere = await FlvTagReader.open(target.toString());
        readers.push(elsewhere);
        await elsewhere.waitForFrames(5, 15_000);
        // The source's agent counts its relay's player: the third node gets its ticket from node2.
        await waitFor(async () => ((await relayStats(0)).playerCommittedBps ?? 0) > 500_000, {
          timeoutMs: 10_000,
          what: 'the player committed at the source',
        });
        const watch2 = await waitFor(
          () => agentApi<WatchReply>(node(2), 'POST', `/api/streams/${id}/watch`).catch(() => null),
          { timeoutMs: 30_000, intervalMs: 500, what: 'node3 to get a ticket' },
        );
        expect(watch2.upstreamNodeId).toBe(node(1).nodeId);
        expect(watch2.hops).toBe(2);
      },
    );
  }, 120_000);
});
