import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ClientProxy } from '@nestjs/microservices';
import { AstralError, DirectoryPatterns, PublishReply } from '@astral/contracts';
import { busClient, request } from '@astral/transport';
import {
  LocalNetwork,
  ManagedProcess,
  sleep,
  spawnManaged,
  startLocalNetwork,
  waitFor,
  withLogsOnFailure,
} from '@astral/testing';
import { createStream } from '../apps/cli/src/commands/publish.command';

const run = promisify(execFile);

/** A 16x8 red frame from ffmpeg's mjpeg encoder. */
const RED = Buffer.from(
  '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAg+Pkk+SVVVVVVVVWRdZGhoaGRkZGRoaGhwcHCDg4NwcHBoaHBwfHyDg4+Tj4eHg4eTk5ubm7q6srLZ2eD/////xABMAAEBAAAAAAAAAAAAAAAAAAAABgEBAQAAAAAAAAAAAAAAAAAABgcQAQAAAAAAAAAAAAAAAAAAAAARAQAAAAAAAAAAAAAAAAAAAAD/wAARCAAIABADASIAAhEAAxEA/9oADAMBAAIRAxEAPwCLAFF/f//Z',
  'base64',
);

/** The preview refresh of the source node in this test (the default is 5 s). */
const INTERVAL_MS = 2000;

/**
 * Preview images: the source node grabs a frame of its live stream (one ffmpeg over loopback) every few
 * seconds and sends it to the directory over the bus; the directory serves the latest as
 * /streams/:id/preview.jpg. Only the source may set it, only a JPEG is kept, and it goes when the stream ends.
 */
describe('stream previews', () => {
  let net: LocalNetwork;
  let publisher: ManagedProcess | undefined;
  const morePublishers: ManagedProcess[] = [];
  let stream: PublishReply;
  const clients = new Map<string, ClientProxy>();

  const previewUrl = (streamId: string) => `${net.directoryUrl}/streams/${streamId}/preview.jpg`;
  const getPreview = async (streamId: string) => {
    const res = await fetch(previewUrl(streamId));
    return {
      status: res.status,
      cacheControl: res.headers.get('cache-control'),
      body: Buffer.from(await res.arrayBuffer()),
    };
  };
  /** A bus client that sends as `nodeId` (the test's Redis has no ACL users, so it may claim any sender). */
  const as = (nodeId: string) => {
    let c = clients.get(nodeId);
    if (!c) clients.set(nodeId, (c = busClient(nodeId, { url: net.redisUrl, retryAttempts: 1 })));
    return c;
  };
  const setPreview = (sender: string, streamId: string, jpeg: string, nodeId = sender) =>
    request(as(sender), DirectoryPatterns.SetPreview, { streamId, nodeId, jpeg }, 10_000);
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => ({ status: 200, message: '' }),
      (err: AstralError) => ({ status: err.status, message: err.message }),
    );
  /** ffmpeg processes whose command line reads this stream's local HTTP-FLV (the preview grabbers). */
  const grabbers = async (streamId: string) => {
    const { stdout } = await run('ps', ['-eo', 'pid,args']);
    return stdout.split('\n').filter((l) => l.includes('-skip_frame') && l.includes(`/live/${streamId}.flv`));
  };

  /** testsrc moves (a counter and a sweeping gradient), so successive previews differ; a keyframe a second. */
  const publishTestPattern = (name: string, rtmpUrl: string) =>
    spawnManaged(
      name,
      [
        ...['-hide_banner', '-nostdin', '-loglevel', 'warning', '-re'],
        ...['-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=30'],
        ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
        ...[
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-tune',
          'zerolatency',
          '-pix_fmt',
          'yuv420p',
          '-g',
          '30',
        ],
        ...['-c:a', 'aac', '-b:a', '64k', '-f', 'flv', rtmpUrl],
      ],
      { command: 'ffmpeg', logFile: join(net.logDir, `${name}.log`) },
    );
  const alive = async (pid: number) =>
    (await run('ps', ['-p', String(pid), '-o', 'stat=']).catch(() => ({ stdout: '' }))).stdout.trim();

  beforeAll(async () => {
    net = await startLocalNetwork({
      nodes: [{}, {}],
      env: { ASTRAL_PREVIEW_INTERVAL_MS: String(INTERVAL_MS), ASTRAL_PUBLISH_GRACE_MS: '0' },
    });
    const [source] = net.nodes;
    stream = await createStream(source.apiUrl, source.apiToken, 'moving test pattern');
    // testsrc moves (a counter and a sweeping gradient), so successive previews differ; a keyframe a second.
    publisher = publishTestPattern('publisher', stream.rtmpUrl);
  }, 120_000);

  afterAll(async () => {
    for (const c of clients.values()) await c.close();
    await publisher?.stop('SIGTERM', 5000);
    await Promise.all(morePublishers.map((p) => p.stop('SIGTERM', 5000)));
    await net?.stop();
  }, 60_000);

  it(
    'serves a decodable JPEG of the live stream, 320 wide, refreshed as the picture moves',
    () =>
      withLogsOnFailure(
        () => net.logs(20_000),
        async () => {
          const first = await waitFor(
            async () => {
              const p = await getPreview(stream.streamId);
              return p.status === 200 ? p : undefined;
            },
            { timeoutMs: 30_000, intervalMs: 500, what: 'a preview of the live stream' },
          );
          expect(first.cacheControl).toBe('no-cache');
          const file = join(net.dataRoot, 'preview.jpg');
          writeFileSync(file, first.body);
          const probe = await run('ffprobe', [
            '-v',
            'error',
            '-count_frames',
            '-show_entries',
            'stream=codec_name,width,height,nb_read_frames',
            '-of',
            'json',
            file,
          ]);
          const [s] = (JSON.parse(probe.stdout) as { streams: Record<string, unknown>[] }).streams;
          expect(s).toMatchObject({ codec_name: 'mjpeg', width: 320, height: 180, nb_read_frames: '1' });

          const changed = await waitFor(
            async () => {
              const p = await getPreview(stream.streamId);
              return p.status === 200 && !p.body.equals(first.body) ? p : undefined;
            },
            { timeoutMs: 5 * INTERVAL_MS + 10_000, intervalMs: 500, what: 'a newer preview' },
          );
          expect(changed.body.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))).toBe(true);
          // One grabber for the stream, at the source only.
          expect(await grabbers(stream.streamId)).toHaveLength(1);
        },
      ),
    90_000,
  );

  it(
    "refuses another node's preview with 403 and takes the source's (its twin)",
    () =>
      withLogsOnFailure(
        () => net.logs(20_000),
        async () => {
          const [source, other] = net.nodes;
          const red = RED.toString('base64');
          const refused = await refusal(setPreview(other.nodeId, stream.streamId, red));
          expect(refused.status).toBe(403);
          expect(refused.message).toMatch(/only the source node/);
          // A sender that names the source in the payload is refused by the bus's sender check before any handler.
          const claimed = await refusal(setPreview(other.nodeId, stream.streamId, red, source.nodeId));
          expect(claimed.status).not.toBe(200);

          expect(await setPreview(source.nodeId, stream.streamId, red)).toEqual({ ok: true });
          // The grabber may refresh it in between; the source's own image is served within a few tries.
          let served = false;
          for (let i = 0; i < 5 && !served; i++) {
            await setPreview(source.nodeId, stream.streamId, red);
            served = (await getPreview(stream.streamId)).body.equals(RED);
          }
          expect(served).toBe(true);
        },
      ),
    60_000,
  );

  it(
    'refuses garbage with 400 and keeps the last good image; 404 for an unknown stream',
    () =>
      withLogsOnFailure(
        () => net.logs(20_000),
        async () => {
          const [source] = net.nodes;
          const before = await getPreview(stream.streamId);
          expect(before.status).toBe(200);
          const garbage = await refusal(
            setPreview(
              source.nodeId,
              stream.streamId,
              Buffer.from('<html>not a picture</html>').toString('base64'),
            ),
          );
          expect(garbage.status).toBe(400);
          expect(garbage.message).toMatch(/not a JPEG/);
          const truncated = await refusal(
            setPreview(source.nodeId, stream.streamId, RED.subarray(0, 100).toString('base64')),
          );
          expect(truncated.status).toBe(400);
          const notBase64 = await refusal(setPreview(source.nodeId, stream.streamId, '%%% not base64 %%%'));
          expect(notBase64.status).toBe(400);
          expect((await getPreview(stream.streamId)).status).toBe(200);

          expect((await getPreview('no-such-stream')).status).toBe(404);
          const unknown = await refusal(setPreview(source.nodeId, 'no-such-stream', RED.toString('base64')));
          expect(unknown.status).toBe(404);
        },
      ),
    60_000,
  );

  it(
    'drops the preview and stops the grabber when the stream ends',
    () =>
      withLogsOnFailure(
        () => net.logs(20_000),
        async () => {
          const [source] = net.nodes;
          await publisher!.stop('SIGTERM', 5000);
          await waitFor(async () => (await getPreview(stream.streamId)).status === 404, {
            timeoutMs: 20_000,
            intervalMs: 500,
            what: 'no preview once the stream ended',
          });
          await waitFor(async () => (await grabbers(stream.streamId)).length === 0, {
            timeoutMs: 15_000,
            intervalMs: 500,
            what: 'the preview grabber (ffmpeg) to exit',
          });
          const late = await refusal(setPreview(source.nodeId, stream.streamId, RED.toString('base64')));
          expect(late.status).toBe(409);
          await sleep(500);
          expect((await getPreview(stream.streamId)).status).toBe(404);
        },
      ),
    60_000,
  );

  it(
    'leaves no ffmpeg behind when the agent crashes',
    () =>
      withLogsOnFailure(
        () => net.logs(20_000),
        async () => {
          const [source] = net.nodes;
          const second = await createStream(source.apiUrl, source.apiToken, 'crash test pattern');
          morePublishers.push(publishTestPattern('publisher-crash', second.rtmpUrl));
          const [line] = await waitFor(
            async () => {
              const g = await grabbers(second.streamId);
              return g.length === 1 ? g : undefined;
            },
            { timeoutMs: 30_000, intervalMs: 500, what: 'a grabber for the second stream' },
          );
          const grabberPid = Number(/^\s*(\d+)/.exec(line)![1]);
          const { stdout } = await run('ps', ['--ppid', String(source.process.pid), '-o', 'pid=,args=']);
          const agentPid = Number(/^\s*(\d+)\s+.*astral\.js agent\s*$/m.exec(stdout)![1]);
          const killedAt = Date.now();
          process.kill(agentPid, 'SIGKILL');
          // Its next frame goes to a closed pipe: ffmpeg exits (and init reaps it) within about one interval.
          await waitFor(async () => (await alive(grabberPid)) === '', {
            timeoutMs: 3 * INTERVAL_MS + 15_000,
            intervalMs: 200,
            what: `the orphaned ffmpeg ${grabberPid} to exit`,
          });
          console.log(
            JSON.stringify({ orphanedGrabberExitMs: Date.now() - killedAt, intervalMs: INTERVAL_MS }),
          );
        },
      ),
    90_000,
  );
});
