import { ChildProcess, execFile, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { AgentPatterns, UpstreamLost, addressed, fromSender } from '@astral/contracts';
import { FlvTagReader, makeTempDir, removeTempDir, sleep, waitFor } from '@astral/testing';
import { RelayTestbed, TestRelay, startRelayTestbed } from '../bench/lib/relay-testbed';

/** UpstreamLost events of one relay, as its agent would receive them (raw Redis subscription). */
async function watchUpstreamLost(
  redisUrl: string,
  nodeId: string,
): Promise<{ events: { at: number; msg: UpstreamLost }[]; close(): void }> {
  const sub = new Redis(redisUrl);
  // The relay writes its events to its agent on its own sender channel.
  const channel = fromSender(addressed(AgentPatterns.RelayUpstreamLost, nodeId), nodeId);
  const events: { at: number; msg: UpstreamLost }[] = [];
  sub.on('message', (_ch: string, text: string) => {
    const packet = JSON.parse(text) as { data: UpstreamLost };
    events.push({ at: performance.now(), msg: packet.data });
  });
  await sub.subscribe(channel);
  return { events, close: () => sub.disconnect() };
}

function decodeErrors(file: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      'ffmpeg',
      ['-v', 'error', '-i', file, '-f', 'null', '-'],
      { timeout: 60_000 },
      (err, _out, stderr) => resolve(err ? `${err.message}\n${stderr}` : stderr.trim()),
    );
  });
}

/**
 * Upstream failover at the wire level: A publishes, B pulls from A, C pulls from B; a player reads C
 * over RTMP. B dies (SIGKILL); C is pointed at A. The player must not notice more than a stall.
 */
describe('relay failover', () => {
  let bed: RelayTestbed;
  let A: TestRelay;
  let B: TestRelay;
  let C: TestRelay;
  let ffmpeg: ChildProcess | null = null;
  const streamId = 'relay-failover';
  const dir = makeTempDir('astral-failover-');

  beforeAll(async () => {
    bed = await startRelayTestbed();
    [A, B, C] = await Promise.all([
      bed.startRelay('relayA'),
      bed.startRelay('relayB'),
      bed.startRelay('relayC'),
    ]);
    await bed.publish(A, streamId);
    await A.waitForTagsIn(streamId, 50, { timeoutMs: 15_000, what: 'the stream at A' });
    try {
      await bed.pull(B, A, streamId);
      await B.waitForTagsIn(streamId, 50, { timeoutMs: 15_000, what: 'the stream at B' });
      await bed.pull(C, B, streamId);
    } catch (err) {
      console.log(bed.logs(4000));
      throw err;
    }
  }, 90_000);

  afterAll(async () => {
    if (ffmpeg && ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
    await bed?.stop();
    removeTempDir(dir);
  }, 60_000);

  it('keeps an RTMP player on C receiving across the loss of B, with a gap under 3 s and a decodable output', async () => {
    try {
      const lost = await watchUpstreamLost(bed.redis.url, C.nodeId);
      const reader = await waitFor(() => FlvTagReader.open(C.httpFlvUrl(streamId)).catch(() => null), {
        timeoutMs: 15_000,
        what: "C's HTTP-FLV",
      });
      const out = join(dir, 'player.flv');
      let reconnects = 0;
      const player = spawn(
        'ffmpeg',
        [
          '-v',
          'error',
          '-nostdin',
          '-i',
          C.rtmpUrl(streamId),
          '-c',
          'copy',
          '-flush_packets',
          '1',
          '-f',
          'flv',
          out,
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      ffmpeg = player;
      let playerErr = '';
      player.stderr?.on('data', (d: Buffer) => (playerErr += d.toString()));
      player.on('exit', () => reconnects++);
      await reader.waitForFrames(50, 15_000);
      await waitFor(() => (statSync(out, { throwIfNoEntry: false })?.size ?? 0) > 50_000, {
        timeoutMs: 15_000,
        what: 'ffmpeg output',
      });
      await sleep(3000);

      const killedAt = performance.now();
      B.process.kill('SIGKILL');
      const event = await waitFor(() => lost.events[0], {
        timeoutMs: 5000,
        intervalMs: 20,
        what: 'C to report its upstream lost',
      });
      await bed.pull(C, A, streamId); // as C's agent re-points it after the loss
      const switchedAt = performance.now();
      await sleep(8000);
      const sizeBefore = statSync(out).size;
      await sleep(1000);
      const sizeAfter = statSync(out).size;
      expect(player.exitCode).toBeNull(); // the same ffmpeg, never disconnected
      const exitsBeforeStop = reconnects;
      player.kill('SIGINT'); // ffmpeg finishes its file cleanly
      await new Promise((resolve) => player.once('exit', resolve));
      reader.close();

      const frames = reader.videoFrames;
      let maxGap = 0;
      let monotonic = true;
      for (let i = 1; i < frames.length; i++) {
        maxGap = Math.max(maxGap, frames[i].arrivalMs - frames[i - 1].arrivalMs);
        if (frames[i].timestamp < frames[i - 1].timestamp) monotonic = false;
      }
      const firstAfter = frames.find((f) => f.arrivalMs > switchedAt);
      const errors = await decodeErrors(out);
      const report = {
        detectMs: Math.round(event.at - killedAt),
        reason: event.msg.reason,
        maxGapMs: Math.round(maxGap),
        firstFrameAfterSwitchKeyframe: firstAfter?.keyframe,
        frames: frames.length,
        monotonic,
        outputBytes: sizeAfter,
        decodeErrors: errors,
        playerStderr: playerErr.slice(0, 500),
      };
      console.log(JSON.stringify(report));
      lost.close();
      expect(event.msg.upstreamNodeId).toBe(B.nodeId);
      expect(event.at - killedAt).toBeLessThan(2000);
      expect(sizeAfter).toBeGreaterThan(sizeBefore); // still receiving after the switch
      expect(exitsBeforeStop).toBe(0); // the player never exited before our SIGINT
      expect(reconnects).toBe(1); // and the one exit is that SIGINT
      expect(maxGap).toBeLessThan(3000);
      expect(monotonic).toBe(true);
      expect(firstAfter?.keyframe).toBe(true);
      expect(errors).toBe('');
      const stats = await C.stats();
      expect(stats.streams.find((s) => s.streamId === streamId)?.upstreamNodeId).toBe(A.nodeId);
      expect(await (await fetch(C.metricsUrl)).text()).toMatch(
        /astral_relay_upstream_switches_total\{[^}]*\} 1/,
      );
    } catch (err) {
      console.log(bed.logs(4000));
      throw err;
    }
  }, 90_000);

  it("on SIGTERM, a relay's downstreams get a close tag with 'leaving' and report their upstream lost at once", async () => {
    // D's stall bound is long, so only the close tag can explain a prompt report.
    const D = await bed.startRelay('relayD', { stallMs: 10_000 });
    const lost = await watchUpstreamLost(bed.redis.url, D.nodeId);
    try {
      await bed.pull(D, C, streamId);
      await D.waitForTagsIn(streamId, 50, { timeoutMs: 15_000, what: 'the stream at D' });
      const t0 = performance.now();
      const exit = C.process.stop('SIGTERM', 15_000);
      const event = await waitFor(() => lost.events[0], {
        timeoutMs: 5000,
        intervalMs: 10,
        what: 'D to report its upstream lost',
      });
      const { code } = await exit;
      console.log(
        JSON.stringify({ reportMs: Math.round(event.at - t0), reason: event.msg.reason, exitCode: code }),
      );
      expect(event.msg.reason).toMatch(/leaving/);
      expect(event.at - t0).toBeLessThan(1000);
      expect(code).toBe(0);
    } catch (err) {
      console.log(bed.logs(4000));
      throw err;
    } finally {
      lost.close();
    }
  }, 60_000);
});
