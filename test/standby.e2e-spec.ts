import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import { AgentPatterns, UpstreamLost, addressed, fromSender } from '@astral/contracts';
import { FlvTagReader, ManagedProcess, makeTempDir, removeTempDir, sleep, waitFor } from '@astral/testing';
import { RelayTestbed, TestRelay, sha256Hex, startRelayTestbed } from '../bench/lib/relay-testbed';
import { FrameRecorder, compareFrames } from '../bench/lib/frame-recorder';
import { spawnTestPattern } from '../bench/lib/test-pattern';

/** UpstreamLost events of one relay, as its agent would receive them (raw Redis subscription). */
async function watchUpstreamLost(
  redisUrl: string,
  nodeId: string,
): Promise<{ events: { at: number; msg: UpstreamLost }[]; close(): void }> {
  const sub = new Redis(redisUrl);
  const channel = fromSender(addressed(AgentPatterns.RelayUpstreamLost, nodeId), nodeId);
  const events: { at: number; msg: UpstreamLost }[] = [];
  sub.on('message', (_ch: string, text: string) => {
    events.push({ at: performance.now(), msg: (JSON.parse(text) as { data: UpstreamLost }).data });
  });
  await sub.subscribe(channel);
  return { events, close: () => sub.disconnect() };
}

/**
 * Hitless failover (docs/RELAY.md "Standby"): ffmpeg publishes a test pattern with audio at A; B1 and B2
 * both pull from A; C pulls its primary from B1 and keeps a receiving standby from B2. A player on C
 * records every frame (ffmpeg framemd5), and so does a player on A (the source's frames). B1 is SIGKILLed
 * mid-stream: C's player must get every frame of the source once, at its own timestamp, with no gap over
 * 100 ms, and never disconnect.
 */
describe('warm standby', () => {
  let bed: RelayTestbed;
  let A: TestRelay;
  let B1: TestRelay;
  let B2: TestRelay;
  let C: TestRelay;
  let publisher: ManagedProcess | null = null;
  const recorders: FrameRecorder[] = [];
  const streamId = 'standby';
  const dir = makeTempDir('astral-standby-');

  const step = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      console.log(bed.logs(4000));
      throw err;
    }
  };

  beforeAll(async () => {
    bed = await startRelayTestbed();
    [A, B1, B2, C] = await Promise.all(
      ['relayA', 'relayB1', 'relayB2', 'relayC'].map((n) => bed.startRelay(n)),
    );
    const key = randomBytes(18).toString('base64url');
    await A.control.authorizePublish({ streamId, keyHash: sha256Hex(key) });
    publisher = spawnTestPattern(
      'publisher',
      `${A.rtmpUrl(streamId)}?key=${key}`,
      join(dir, 'publisher.log'),
    );
    await step(async () => {
      await A.waitForTagsIn(streamId, 50, { timeoutMs: 30_000, what: 'the stream at A' });
      await Promise.all([bed.pull(B1, A, streamId), bed.pull(B2, A, streamId)]);
      await B1.waitForTagsIn(streamId, 50, { timeoutMs: 30_000, what: 'the stream at B1' });
      await B2.waitForTagsIn(streamId, 50, { timeoutMs: 30_000, what: 'the stream at B2' });
      await bed.pull(C, B1, streamId);
      await C.waitForTagsIn(streamId, 50, { timeoutMs: 30_000, what: 'the stream at C' });
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(recorders.map((r) => r.stop()));
    await publisher?.stop('SIGTERM', 5000);
    await bed?.stop();
    removeTempDir(dir);
  }, 60_000);

  it('loses no frame at a player on C when its primary upstream B1 is SIGKILLed', async () => {
    await step(async () => {
      const lost = await watchUpstreamLost(bed.redis.url, C.nodeId);
      await bed.pullStandby(C, B2, streamId, 'receiving');
      await waitFor(
        async () => (await C.stats()).streams.find((s) => s.streamId === streamId)?.standby?.aligned === true,
        { timeoutMs: 15_000, what: "C's standby to align with its primary" },
      );
      const atSource = new FrameRecorder(A.httpFlvUrl(streamId));
      recorders.push(atSource);
      await sleep(500);
      const player = new FrameRecorder(C.httpFlvUrl(streamId));
      recorders.push(player);
      const reader = await FlvTagReader.open(C.httpFlvUrl(streamId));
      await waitFor(() => player.videoFrames.length > 75, { timeoutMs: 20_000, what: "C's player to play" });
      await reader.waitForFrames(75, 10_000);

      const killedAt = performance.now();
      B1.process.kill('SIGKILL');
      const event = await waitFor(() => lost.events[0], {
        timeoutMs: 5000,
        intervalMs: 20,
        what: 'C to report its primary lost',
      });
      await sleep(6000);
      expect(player.running).toBe(true); // the same ffmpeg, never disconnected
      await player.stop();
      await sleep(500);
      await atSource.stop();
      reader.close();
      lost.close();

      const cmp = compareFrames(atSource.packets, player.packets);
      const frames = reader.videoFrames;
      let maxArrivalGap = 0;
      for (let i = 1; i < frames.length; i++)
        maxArrivalGap = Math.max(maxArrivalGap, frames[i].arrivalMs - frames[i - 1].arrivalMs);
      const around = frames.filter((f) => Math.abs(f.arrivalMs - killedAt) < 2000);
      let killGap = 0;
      for (let i = 1; i < around.length; i++)
        killGap = Math.max(killGap, around[i].arrivalMs - around[i - 1].arrivalMs);
      const stats = (await C.stats()).streams.find((s) => s.streamId === streamId);
      const metrics = await (await fetch(C.metricsUrl)).text();
      console.log(
        JSON.stringify({
          detectMs: Math.round(event.at - killedAt),
          event: event.msg,
          ...cmp,
          maxArrivalGapMs: Math.round(maxArrivalGap),
          arrivalGapAroundKillMs: Math.round(killGap),
          playerStderr: player.stderr.slice(0, 300),
        }),
      );
      expect(event.msg).toMatchObject({ upstreamNodeId: B1.nodeId, promotedNodeId: B2.nodeId });
      expect(player.exitedOnItsOwn).toBe(false);
      expect(cmp.frames).toBeGreaterThan(200);
      expect(cmp.foreignFrames).toBe(0);
      expect(cmp.lostFrames).toBe(0);
      expect(cmp.repeatedFrames).toBe(0);
      expect(cmp.offsetJumps).toBe(0);
      expect(cmp.maxTsGapMs).toBeLessThanOrEqual(100);
      expect(cmp.lostAudio).toBe(0);
      // The player's own arrival gap around the kill: 49–63 ms on a quiet machine, 134 ms once in a CI
      // rehearsal with both cores busy (the idle standby below, pulled only on the loss, 146 ms), so the bound
      // is what a player's buffer (≥ 1 s) would not notice; no frame lost or repeated is the behaviour.
      expect(killGap).toBeLessThan(400);
      expect(stats?.upstreamNodeId).toBe(B2.nodeId);
      expect(stats?.standby ?? null).toBeNull();
      expect(metrics).toMatch(/astral_relay_standby_promotions_total\{[^}]*\} 1/);
      expect(metrics).toMatch(/astral_relay_standby_splice_fallbacks_total\{[^}]*\} 0/);
    });
  }, 90_000);

  it('keeps a standby that is not the primary, and closes only it on CloseUpstream role standby', async () => {
    await step(async () => {
      await bed.pullStandby(C, A, streamId, 'receiving');
      await waitFor(
        async () => (await C.stats()).streams.find((s) => s.streamId === streamId)?.standby?.aligned === true,
        { timeoutMs: 15_000, what: "C's standby from A to align" },
      );
      const s = (await C.stats()).streams.find((x) => x.streamId === streamId)!;
      expect(s.standby).toMatchObject({ upstreamNodeId: A.nodeId, mode: 'receiving', connected: true });
      expect(s.standby!.bytesIn).toBeGreaterThan(0);
      expect((await C.stats()).standbyBytesIn).toBeGreaterThan(0);
      expect(await C.control.closeUpstream({ streamId, role: 'standby' })).toEqual({ closed: true });
      const after = (await C.stats()).streams.find((x) => x.streamId === streamId)!;
      expect(after.standby ?? null).toBeNull();
      expect(after.upstreamNodeId).toBe(B2.nodeId);
    });
  }, 60_000);

  it('refuses a standby for a stream published on the node, and for one without a primary', async () => {
    const forward = await B2.admit(streamId, { nodeId: A.nodeId, keys: A.keys });
    await expect(
      A.control.openUpstream({
        streamId,
        upstreamNodeId: B2.nodeId,
        ticketId: forward.ticketId,
        url: forward.url,
        role: 'standby',
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    await expect(
      B2.control.openUpstream({
        streamId: 'no-primary',
        upstreamNodeId: A.nodeId,
        ticketId: randomUUID(),
        url: A.forwardUrl('no-primary', 'not-a-ticket'),
        role: 'standby',
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect((await B2.stats()).streams.map((s) => s.streamId)).toEqual([streamId]);
  });

  it('drops a standby whose ticket the upstream does not know, reporting it lost, without touching the primary', async () => {
    await step(async () => {
      const lost = await watchUpstreamLost(bed.redis.url, C.nodeId);
      const before = (await C.stats()).streams.find((s) => s.streamId === streamId)!;
      const reader = await FlvTagReader.open(C.httpFlvUrl(streamId));
      await C.control.openUpstream({
        streamId,
        upstreamNodeId: A.nodeId,
        ticketId: randomUUID(),
        url: A.forwardUrl(streamId, 'not-a-ticket'),
        role: 'standby',
      });
      const event = await waitFor(() => lost.events[0], {
        timeoutMs: 10_000,
        intervalMs: 20,
        what: 'C to report the standby lost',
      });
      lost.close();
      await reader.waitForFrames(reader.videoFrames.length + 50, 10_000);
      reader.close();
      const after = (await C.stats()).streams.find((s) => s.streamId === streamId)!;
      expect(event.msg).toMatchObject({ upstreamNodeId: A.nodeId, standby: true });
      expect(event.msg.promotedNodeId).toBeUndefined();
      expect(after.upstreamNodeId).toBe(before.upstreamNodeId);
      expect(after.standby ?? null).toBeNull();
      expect(after.tagsIn).toBeGreaterThan(before.tagsIn);
      expect(reader.ended && reader.error).toBeFalsy();
    });
  }, 60_000);
  it('splices an idle standby (pulled only on the loss, its GOP replay aligned) when B2 is SIGKILLed too', async () => {
    await step(async () => {
      const lost = await watchUpstreamLost(bed.redis.url, C.nodeId);
      await bed.pullStandby(C, A, streamId, 'idle');
      const s = (await C.stats()).streams.find((x) => x.streamId === streamId)!;
      expect(s.standby).toMatchObject({
        upstreamNodeId: A.nodeId,
        mode: 'idle',
        connected: false,
        bytesIn: 0,
      });
      await sleep(3000); // the standby's splice notes what the primary delivers
      const atSource = new FrameRecorder(A.httpFlvUrl(streamId));
      recorders.push(atSource);
      await sleep(500);
      const player = new FrameRecorder(C.httpFlvUrl(streamId));
      recorders.push(player);
      const reader = await FlvTagReader.open(C.httpFlvUrl(streamId));
      await waitFor(() => player.videoFrames.length > 75, { timeoutMs: 20_000, what: "C's player to play" });
      const killedAt = performance.now();
      B2.process.kill('SIGKILL');
      const event = await waitFor(() => lost.events[0], {
        timeoutMs: 5000,
        intervalMs: 20,
        what: 'the loss',
      });
      await sleep(5000);
      expect(player.running).toBe(true);
      await player.stop();
      await sleep(500);
      await atSource.stop();
      reader.close();
      lost.close();
      const cmp = compareFrames(atSource.packets, player.packets);
      const around = reader.videoFrames.filter((f) => Math.abs(f.arrivalMs - killedAt) < 2000);
      let killGap = 0;
      for (let i = 1; i < around.length; i++)
        killGap = Math.max(killGap, around[i].arrivalMs - around[i - 1].arrivalMs);
      console.log(JSON.stringify({ idle: true, ...cmp, arrivalGapAroundKillMs: Math.round(killGap) }));
      expect(event.msg).toMatchObject({ upstreamNodeId: B2.nodeId, promotedNodeId: A.nodeId });
      expect(cmp).toMatchObject({ lostFrames: 0, repeatedFrames: 0, foreignFrames: 0, offsetJumps: 0 });
      expect(cmp.maxTsGapMs).toBeLessThanOrEqual(100);
      expect((await C.stats()).streams.find((x) => x.streamId === streamId)?.upstreamNodeId).toBe(A.nodeId);
    });
  }, 60_000);
});
