import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Server, createServer, get } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Browser, chromium } from 'playwright-core';
import { AgentPatterns, addressed, fromSender, hlsPlaylistPath, llHlsPlaylistPath } from '@astral/contracts';
import {
  CHROMIUM_OFFLINE_ARGS,
  CHROMIUM_PATH,
  FlvTagReader,
  ManagedProcess,
  makeTempDir,
  removeTempDir,
  repoRoot,
  sampleFlvPath,
  sleep,
  spawnFfmpegLoopPublisher,
  waitFor,
  withLogsOnFailure,
} from '@astral/testing';
import { HlsClient } from '../bench/lib/hls-client';
import {
  blockingReloadUrl,
  mediaEntries,
  nextPartToAwait,
  parseMediaPlaylist,
} from '../bench/lib/hls-media-list';
import { probeHlsMedia } from '../bench/lib/hls-probe';
import { RelayTestbed, TestRelay, sha256Hex, startRelayTestbed } from '../bench/lib/relay-testbed';

/** What the test page's script sees (no DOM types in this project's lib). */
interface VideoLike {
  currentTime: number;
  play(): Promise<void>;
}
interface PageGlobals {
  Hls: {
    new (config: object): {
      loadSource(u: string): void;
      attachMedia(v: VideoLike): void;
      on(e: string, f: (e: string, d: { fatal?: boolean; details?: string }) => void): void;
    };
    isSupported(): boolean;
    Events: { ERROR: string };
  };
  hlsErrors: string[];
  document: { getElementById(id: string): VideoLike | null };
}

/**
 * HLS and LL-HLS from relays (issue 15), end to end: A has the publish (ffmpeg, fixtures/sample.flv looped),
 * B pulls from A, C from B; every player reads C, two hops below the source. hls.js in Chromium, ffprobe,
 * hls-parser (strict), bench/lib/hls-client.ts; then hostile requests, and B killed under an HLS player.
 */
describe('HLS from a relay two hops below the source', () => {
  let bed: RelayTestbed;
  let A: TestRelay;
  let B: TestRelay;
  let C: TestRelay;
  let publisher: ManagedProcess | null = null;
  let browser: Browser | null = null;
  let page: Server | null = null;
  const clients: HlsClient[] = [];
  const readers: FlvTagReader[] = [];
  const streamId = `hls-${randomBytes(4).toString('hex')}`;
  const dir = makeTempDir('astral-hls-e2e-');
  const ll = (r: TestRelay): string => `http://127.0.0.1:${r.ports.http}${llHlsPlaylistPath(streamId)}`;
  const plain = (r: TestRelay): string => `http://127.0.0.1:${r.ports.http}${hlsPlaylistPath(streamId)}`;
  const step = (body: () => Promise<void>): Promise<void> => withLogsOnFailure(() => bed.logs(4000), body);

  /** A GET of `path` exactly as written (fetch would normalise `..` away before sending). */
  const rawGet = (port: number, path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = get({ host: '127.0.0.1', port, path, timeout: 15_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer to ${path}`)));
      req.on('error', reject);
    });

  /** The first playlist may take about a GOP (segmenting starts on demand): retried for a while. */
  const firstPlaylist = (url: string): Promise<string> =>
    waitFor(
      async () => {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        return res.status === 200 && text;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: `a playlist at ${url}` },
    );

  beforeAll(async () => {
    bed = await startRelayTestbed();
    [A, B, C] = await Promise.all([
      bed.startRelay('relayA'),
      bed.startRelay('relayB'),
      bed.startRelay('relayC'),
    ]);
    const key = randomBytes(18).toString('base64url');
    await A.control.authorizePublish({ streamId, keyHash: sha256Hex(key) });
    publisher = spawnFfmpegLoopPublisher(
      'publisher',
      sampleFlvPath(),
      `${A.rtmpUrl(streamId)}?key=${key}`,
      join(dir, 'publisher.log'),
    );
    await step(async () => {
      await A.waitForTagsIn(streamId, 50, { timeoutMs: 30_000, what: 'the stream at A' });
      await bed.pull(B, A, streamId);
      await B.waitForTagsIn(streamId, 50, { timeoutMs: 30_000, what: 'the stream at B' });
      await bed.pull(C, B, streamId);
      await C.waitForTagsIn(streamId, 50, { timeoutMs: 30_000, what: 'the stream at C' });
      await firstPlaylist(ll(C));
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    for (const r of readers) r.close();
    await browser?.close().catch(() => undefined);
    if (page) await new Promise((resolve) => page!.close(resolve));
    await publisher?.stop('SIGTERM', 5000);
    await bed?.stop();
    removeTempDir(dir);
  }, 60_000);

  it(
    '(c) the LL-HLS playlist parses strictly, advertises parts and a preload hint, and blocks for the next part',
    () =>
      step(async () => {
        const text = await firstPlaylist(ll(C));
        const playlist = parseMediaPlaylist(text, true); // throws on any rule hls-parser checks
        expect(playlist.lowLatencyCompatibility?.canBlockReload).toBe(true);
        expect(playlist.partTargetDuration).toBeGreaterThan(0.2);
        const entries = mediaEntries(playlist);
        expect(entries.filter((e) => e.kind === 'part' && !e.hint).length).toBeGreaterThan(0);
        expect(entries.filter((e) => e.hint)).toHaveLength(1);
        expect(text).toMatch(/#EXT-X-PRELOAD-HINT:TYPE=PART,URI="/);
        expect(text).toMatch(/#EXT-X-SERVER-CONTROL:.*CAN-BLOCK-RELOAD=YES/);
        expect(playlist.segments.filter((s) => s.uri).every((s) => s.programDateTime)).toBe(true);

        const next = nextPartToAwait(playlist)!;
        const t0 = Date.now();
        const blocked = await fetch(blockingReloadUrl(ll(C), next.msn, next.part), {
          signal: AbortSignal.timeout(30_000),
        });
        const waitedMs = Date.now() - t0;
        const after = parseMediaPlaylist(await blocked.text());
        console.log(
          JSON.stringify({ blockingReload: next, waitedMs, targetDurationS: playlist.targetDuration }),
        );
        expect(blocked.status).toBe(200);
        const listed = mediaEntries(after).some(
          (e) =>
            e.msn > next.msn || (e.msn === next.msn && e.kind === 'part' && !e.hint && e.part === next.part),
        );
        expect(listed).toBe(true);
        expect(waitedMs).toBeLessThan(3 * playlist.targetDuration * 1000);

        const far = await fetch(blockingReloadUrl(ll(C), next.msn + 10, 0), {
          signal: AbortSignal.timeout(30_000),
        });
        expect(far.status).toBe(400);
        expect(((await far.json()) as { message?: string }).message).toBeTruthy();
      }),
    120_000,
  );

  it(
    '(b) ffprobe reads init + two consecutive segments: h264 + aac, monotonic, each starting on a keyframe',
    () =>
      step(async () => {
        await firstPlaylist(plain(C));
        const probe = await waitFor(() => probeHlsMedia(plain(C), dir), {
          timeoutMs: 20_000,
          intervalMs: 1000,
          what: 'two complete segments at C',
        });
        console.log(JSON.stringify({ probe }));
        expect(probe.videoCodec).toBe('h264');
        expect(probe.audioCodec).toBe('aac');
        expect(probe.monotonic).toBe(true);
        expect(probe.keyframeStarts).toEqual([true, true]);
        expect(probe.videoPackets).toBeGreaterThan(10);
        expect(probe.audioPackets).toBeGreaterThan(10);
      }),
    120_000,
  );

  it(
    '(a) hls.js in Chromium plays C’s LL-HLS: video.currentTime advances for 10 s',
    () =>
      step(async () => {
        if (!existsSync(CHROMIUM_PATH)) throw new Error(`chromium is not installed at ${CHROMIUM_PATH}`);
        const hlsJs = readFileSync(join(repoRoot(), 'node_modules/hls.js/dist/hls.min.js'));
        page = createServer((req, res) => {
          if (req.url === '/hls.min.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
          else
            res
              .writeHead(200, { 'content-type': 'text/html' })
              .end(
                '<!doctype html><video id="v" muted autoplay playsinline></video><script src="/hls.min.js"></script>',
              );
        });
        await new Promise<void>((resolve) => page!.listen(0, '127.0.0.1', resolve));
        browser = await chromium.launch({
          executablePath: CHROMIUM_PATH,
          headless: true,
          args: [...CHROMIUM_OFFLINE_ARGS, '--autoplay-policy=no-user-gesture-required'],
          timeout: 30_000,
        });
        const tab = await browser.newPage();
        const consoleLines: string[] = [];
        tab.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
        await tab.goto(`http://127.0.0.1:${(page.address() as AddressInfo).port}/`);
        await tab.evaluate((src) => {
          const w = globalThis as unknown as PageGlobals;
          const video = w.document.getElementById('v')!;
          w.hlsErrors = [];
          if (!w.Hls.isSupported()) throw new Error('hls.js: MSE not supported in this browser');
          const hls = new w.Hls({ lowLatencyMode: true });
          hls.on(w.Hls.Events.ERROR, (_e, d) =>
            w.hlsErrors.push(`${d.fatal ? 'fatal' : 'non-fatal'} ${d.details}`),
          );
          hls.loadSource(src);
          hls.attachMedia(video);
          void video.play().catch(() => undefined);
        }, ll(C));
        const currentTime = (): Promise<number> =>
          tab.evaluate(
            () => (globalThis as unknown as PageGlobals).document.getElementById('v')!.currentTime,
          );
        const errors = (): Promise<string[]> =>
          tab.evaluate(() => (globalThis as unknown as PageGlobals).hlsErrors);
        try {
          const start = await waitFor(async () => ((await currentTime()) > 0.5 ? currentTime() : false), {
            timeoutMs: 30_000,
            intervalMs: 250,
            what: 'hls.js to start playing',
          });
          await sleep(10_000);
          const end = await currentTime();
          console.log(JSON.stringify({ hlsJs: { start, end, errors: (await errors()).slice(0, 10) } }));
          expect(end - start).toBeGreaterThan(7); // 10 s of wall clock, with room for a stall
          expect((await errors()).filter((e) => e.startsWith('fatal'))).toEqual([]);
        } catch (err) {
          console.log(consoleLines.slice(-40).join('\n'));
          throw err;
        }
      }),
    120_000,
  );

  it(
    '(e) hostile HLS requests get 400/404 with a JSON reason; the relay and its FLV and HLS players go on',
    () =>
      step(async () => {
        const flv = await FlvTagReader.open(C.httpFlvUrl(streamId));
        readers.push(flv);
        const hls = new HlsClient({ url: ll(C), mode: 'll' });
        clients.push(hls);
        await hls.start();
        await waitFor(() => hls.arrivals.length > 2, {
          timeoutMs: 20_000,
          what: 'the HLS client to receive parts',
        });
        const playlist = parseMediaPlaylist(await firstPlaylist(ll(C)));
        const epoch = mediaEntries(playlist)[0].uri.split('/')[0];
        const base = `http://127.0.0.1:${C.ports.http}/live`;
        const hostile = [
          `${base}/${streamId}/garbage.m3u8`,
          `${base}/${streamId}/ll.m3u8?_HLS_msn=abc`,
          `${base}/${streamId}/ll.m3u8?_HLS_part=1`,
          `${base}/${streamId}/ll.m3u8?_HLS_msn=99999999999999999999`,
          `${base}/${streamId}/ll.m3u8?_HLS_msn=1&_HLS_part=99999999`,
          `${base}/${streamId}/ll.m3u8?_HLS_msn=1&_HLS_msn=2`,
          `${base}/${streamId}/ll.m3u8?_HLS_msn=-1`,
          `${base}/${streamId}/BAD_EPOCH!/s1.m4s`,
          `${base}/${streamId}/zzzzzzzz/s1.m4s`,
          `${base}/${streamId}/${epoch}/s999999999.m4s`,
          `${base}/${streamId}/${epoch}/p1.x.m4s`,
          `${base}/${streamId}/${epoch}/init99.mp4`,
          `${base}/${streamId}/${epoch}/../../../etc/passwd`,
          `${base}/${streamId}/%00%ff.m3u8`,
          `${base}/no-such-stream/ll.m3u8`,
          `${base}/no-such-stream/index.m3u8`,
          `${base}/${streamId}/${'x'.repeat(5000)}.m3u8`,
        ];
        const answers: { url: string; status: number; body: string }[] = [];
        for (const url of hostile) {
          const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
          answers.push({
            url: url.slice(base.length, base.length + 120),
            status: res.status,
            body: await res.text(),
          });
        }
        for (const path of [
          `/live/${streamId}/../../../etc/passwd`,
          `/live/${streamId}/${epoch}/../../${streamId}/ll.m3u8`,
          `/live/${streamId}/${epoch}/%2e%2e%2fs1.m4s`,
          `/live/${streamId}/ll.m3u8?_HLS_msn=${'9'.repeat(3000)}`,
        ])
          answers.push({ url: path.slice(0, 120), ...(await rawGet(C.ports.http, path)) });
        console.log(
          JSON.stringify(answers.map((a) => ({ url: a.url, status: a.status, body: a.body.slice(0, 160) }))),
        );
        for (const a of answers) {
          expect({ url: a.url, status: [400, 404].includes(a.status) }).toEqual({ url: a.url, status: true });
          const body = JSON.parse(a.body) as { status?: number; message?: string };
          expect(body.message).toBeTruthy();
        }
        // The twin: the good requests work, and everything still plays.
        expect((await fetch(ll(C))).status).toBe(200);
        const init = mediaEntries(playlist).find((e) => e.mapUri)!.mapUri!;
        expect((await fetch(new URL(init, ll(C)))).status).toBe(200);
        expect(C.process.running).toBe(true);
        const frames = flv.videoFrames.length;
        const parts = hls.arrivals.length;
        await sleep(3000);
        expect(flv.videoFrames.length).toBeGreaterThan(frames + 25);
        expect(hls.arrivals.length).toBeGreaterThan(parts + 3);
        expect(flv.ended).toBe(false);
      }),
    120_000,
  );

  it(
    '(d) B SIGKILLed under an LL-HLS player of C, C re-pointed at A: parts keep coming, sequence counts on',
    () =>
      step(async () => {
        const sub = new Redis(bed.redis.url);
        const lost: number[] = [];
        sub.on('message', () => lost.push(Date.now()));
        await sub.subscribe(fromSender(addressed(AgentPatterns.RelayUpstreamLost, C.nodeId), C.nodeId));
        try {
          const hls = new HlsClient({ url: ll(C), mode: 'll' });
          clients.push(hls);
          await hls.start();
          await waitFor(() => hls.arrivals.length > 5, { timeoutMs: 20_000, what: 'parts before the kill' });
          await sleep(2000);
          const msnBefore = hls.lastMsn!;
          const killedAt = Date.now();
          B.process.kill('SIGKILL');
          await waitFor(() => lost.length > 0, {
            timeoutMs: 10_000,
            intervalMs: 20,
            what: 'C to report B lost',
          });
          await bed.pull(C, A, streamId); // as C's agent re-points it after the loss
          await sleep(10_000);
          const gap = hls.maxGapMs(killedAt - 2000);
          const discontinuities = (hls.lastPlaylistText.match(/^#EXT-X-DISCONTINUITY$/gm) ?? []).length;
          console.log(
            JSON.stringify({
              detectMs: lost[0] - killedAt,
              maxGapMs: gap,
              msnBefore,
              msnAfter: hls.lastMsn,
              discontinuities,
              discontinuityMsns: [...hls.discontinuityMsns],
              problems: hls.problems.slice(0, 10),
              hintMisses: hls.hintMisses,
            }),
          );
          expect(gap).toBeLessThan(6000);
          expect(hls.arrivals.filter((a) => a.arrivalMs > killedAt + 5000).length).toBeGreaterThan(5);
          expect(hls.lastMsn!).toBeGreaterThan(msnBefore + 2);
          expect(hls.problems.filter((p) => /went back|was .*, now|far behind/.test(p))).toEqual([]);
          expect(discontinuities).toBeLessThanOrEqual(1);
          expect(hls.discontinuityMsns.size).toBeLessThanOrEqual(1);
          expect((await C.stats()).streams.find((s) => s.streamId === streamId)?.upstreamNodeId).toBe(
            A.nodeId,
          );
        } finally {
          sub.disconnect();
        }
      }),
    120_000,
  );
});
