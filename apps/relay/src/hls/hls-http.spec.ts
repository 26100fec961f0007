import http, { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as HLS from 'hls-parser';
import { FlvParser, FlvTag, HlsSegmenter, clockTag } from '@astral/media';
import { StreamHub } from '../hub/stream-hub';
import { UploadBudget } from '../forward/upload-budget';
import { PlayerBudget } from '../players/player-budget';
import { HlsHttp } from './hls-http';
import { HlsSettings, RelayHls } from './hls-streams';
import { hlsDirectoryPlay } from './hls-sessions';

const NODE = '11111111-1111-4111-8111-111111111111';
const SAMPLE = join(__dirname, '..', '..', '..', '..', 'fixtures', 'sample.flv');
const TAGS: FlvTag[] = new FlvParser().push(readFileSync(SAMPLE));
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined } as never;

/** sample.flv has a keyframe every second: 1 s segments (target 1 s, so blocking waits at most 3 s), 200 ms parts. */
const SETTINGS: HlsSettings = {
  enabled: true,
  partTargetMs: 200,
  segmentTargetMs: 1000,
  windowSegments: 6,
  windowBytes: 64 * 1024 * 1024,
  idleMs: 30_000,
  recordDir: null,
};

/** A real loopback server running HlsHttp over a real segmenter attached to a real hub fed from sample.flv. */
async function setup(settings: HlsSettings = SETTINGS) {
  const hub = new StreamHub('show-1', 'publish');
  let hubOpen = true;
  const players = new PlayerBudget({
    nodeId: NODE,
    budget: new UploadBudget(null),
    access: 'open',
    localPlayers: 'none', // count the loopback test client, so the sessions show in the budget
    bitrateOf: () => 1_000_000,
    log: quiet,
  });
  const hls = new RelayHls({
    settings,
    hubOf: (id) => (id === 'show-1' && hubOpen ? hub : undefined),
    streamIds: () => (hubOpen ? ['show-1'] : []),
    admit: (id, address, token, ll) => players.admit(id, address, token, 'hls', hlsDirectoryPlay(ll)),
    createSegmenter: (s) => new HlsSegmenter(s),
    log: quiet,
  });
  const routes = new HlsHttp(hls, quiet);
  const server: Server = http.createServer((req, res) => routes.serve(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let next = 0;
  /** Ingests the sample's tags up to `ms` of its timeline. */
  const pushUntil = (ms: number): void => {
    while (next < TAGS.length && TAGS[next].timestamp <= ms) hub.ingest(TAGS[next++]);
  };
  /** A stream live for half a second, then segmented (as a first request would), then `ms` of its timeline. */
  const start = (ms: number): void => {
    pushUntil(500);
    hls.open('show-1');
    pushUntil(ms);
  };
  const closeHub = (): void => {
    hubOpen = false;
    hub.close('the publisher stopped');
  };
  const stop = async (): Promise<void> => {
    hls.closeAll('test over');
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { hub, hls, players, base, pushUntil, start, closeHub, stop };
}

type Setup = Awaited<ReturnType<typeof setup>>;
let t: Setup;
afterEach(async () => t?.stop());

const get = (path: string, init?: RequestInit) => fetch(`${t.base}${path}`, init);

/** The LL playlist, parsed, with the preload hint's part. */
async function llPlaylist(): Promise<{ text: string; playlist: HLS.types.MediaPlaylist; hint: string }> {
  const res = await get('/live/show-1/ll.m3u8');
  expect(res.status).toBe(200);
  const text = await res.text();
  const playlist = HLS.parse(text) as HLS.types.MediaPlaylist;
  const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)?.[1];
  expect(hint).toBeDefined();
  return { text, playlist, hint: hint! };
}

/** Is the promise still pending after the event loop had a chance to run it? */
async function pending(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const r = await Promise.race([p, new Promise((resolve) => setTimeout(() => resolve(marker), 200))]);
  return r === marker;
}

describe(HlsHttp.name, () => {
  it('serves the plain and the LL playlist with their headers; HEAD the same headers without a body', async () => {
    t = await setup();
    t.start(4500);
    const plain = await get('/live/show-1/index.m3u8');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(plain.headers.get('cache-control')).toBe('public, max-age=1');
    expect(plain.headers.get('access-control-allow-origin')).toBe('*');
    const plainText = await plain.text();
    expect(Number(plain.headers.get('content-length'))).toBe(Buffer.byteLength(plainText));
    const parsed = HLS.parse(plainText) as HLS.types.MediaPlaylist;
    expect(parsed.segments.length).toBeGreaterThanOrEqual(2);
    expect(plainText).not.toContain('#EXT-X-PART:');

    const ll = await get('/live/show-1/ll.m3u8');
    expect(ll.headers.get('cache-control')).toBe('no-cache');
    expect(await ll.text()).toContain('#EXT-X-PART:');

    const head = await get('/live/show-1/index.m3u8', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(await head.text()).toBe('');

    const options = await get('/live/show-1/ll.m3u8', { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('access-control-allow-methods')).toContain('GET');
  });

  it('serves init, segments and parts as immutable media, a Range as 206, and charges every byte to one session', async () => {
    t = await setup();
    t.start(4500);
    const { playlist, text } = await llPlaylist();
    const seg = playlist.segments[0];
    const partUri = /#EXT-X-PART:[^\n]*URI="([^"]+)"/.exec(text)![1];
    const init = await get(`/live/show-1/${seg.map.uri}`);
    expect(init.status).toBe(200);
    expect(init.headers.get('content-type')).toBe('video/mp4');
    expect(init.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const initBytes = Buffer.from(await init.arrayBuffer());
    expect(initBytes.subarray(4, 8).toString()).toBe('ftyp');
    const media = await get(`/live/show-1/${seg.uri}`);
    expect(media.headers.get('content-type')).toBe('video/iso.segment');
    const body = Buffer.from(await media.arrayBuffer());
    expect(Number(media.headers.get('content-length'))).toBe(body.length);
    const ranged = await get(`/live/show-1/${seg.uri}`, { headers: { Range: 'bytes=0-1' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 0-1/${body.length}`);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(body.subarray(0, 2));
    const part = await get(`/live/show-1/${partUri}`);
    expect(part.status).toBe(200);
    expect(part.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await part.arrayBuffer()).byteLength).toBeGreaterThan(0);
    // One client address: one session, admitted once, counted as one player.
    expect(t.hls.sessions.size).toBe(1);
    expect(t.players.counts('show-1').players).toBe(1);
    expect(t.hls.counters.bytes).toBeGreaterThan(initBytes.length + body.length);
  });

  it('a blocking reload for the next part returns when the part is pushed', async () => {
    t = await setup();
    t.start(3500);
    const { hint } = await llPlaylist();
    const [, msn, i] = /p(\d+)\.(\d+)\.m4s$/.exec(hint)!.map(Number);
    const blocked = get(`/live/show-1/ll.m3u8?_HLS_msn=${msn}&_HLS_part=${i}`);
    expect(await pending(blocked)).toBe(true);
    expect(t.hls.counters.blockingWaits).toBe(1);
    t.pushUntil(4500);
    const res = await blocked;
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=6');
    expect(await res.text()).toContain(hint.split('/').pop());
  });

  it("a preload-hint part request blocks, then returns the part's bytes", async () => {
    t = await setup();
    t.start(3500);
    const { hint } = await llPlaylist();
    const blocked = get(`/live/show-1/${hint}`);
    expect(await pending(blocked)).toBe(true);
    t.pushUntil(4500);
    const res = await blocked;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/iso.segment');
    const bytes = Buffer.from(await res.arrayBuffer());
    const found = t.hls.peek('show-1')!.segmenter.find(hint.split('/').pop()!);
    expect(found.kind).toBe('ready');
    if (found.kind === 'ready') expect(bytes).toEqual(Buffer.concat(found.chunks));
  });

  it('answers 503 with Retry-After when nothing comes within 3 target durations', async () => {
    t = await setup();
    t.start(3500);
    const { hint } = await llPlaylist();
    const [, msn] = /p(\d+)\.(\d+)\.m4s$/.exec(hint)!.map(Number);
    const res = await get(`/live/show-1/ll.m3u8?_HLS_msn=${msn + 1}`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(t.hls.counters.blockingTimeouts).toBe(1);
    expect(t.hls.peek('show-1')!.waiters.size).toBe(0);
  });

  it('refuses garbage with 400 and what is not here with 404', async () => {
    t = await setup();
    t.start(3500);
    const { hint } = await llPlaylist();
    const [, msn] = /p(\d+)\.(\d+)\.m4s$/.exec(hint)!.map(Number);
    const epoch = t.hls.peek('show-1')!.segmenter.epoch;
    const cases: [string, number][] = [
      ['/live/show-1/ll.m3u8?_HLS_part=1', 400],
      ['/live/show-1/ll.m3u8?_HLS_msn=abc', 400],
      ['/live/show-1/ll.m3u8?_HLS_msn=1&_HLS_msn=2', 400],
      [`/live/show-1/ll.m3u8?_HLS_msn=${msn + 10}`, 400], // too far ahead
      ['/live/Show_1/index.m3u8', 400],
      ['/live/show-1/NOTANEPOCH/s1.m4s', 400],
      ['/live/other-1/index.m3u8', 404],
      ['/live/show-1/zzzzzz99/s1.m4s', 404], // an earlier run's epoch
      [`/live/show-1/${epoch}/s999999.m4s`, 404],
      [`/live/show-1/${epoch}/x.m4s`, 404],
      ['/live/show-1/master.m3u8', 404],
    ];
    for (const [path, status] of cases) {
      const res = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(((await res.json()) as { message: string }).message).toEqual(expect.any(String));
    }
    expect((await get('/live/show-1/index.m3u8', { method: 'POST' })).status).toBe(405);
  });

  it('removes the waiters of clients that disconnect', async () => {
    t = await setup();
    t.start(3500);
    const { hint } = await llPlaylist();
    const [, msn, i] = /p(\d+)\.(\d+)\.m4s$/.exec(hint)!.map(Number);
    const state = t.hls.peek('show-1')!;
    const aborts = Array.from({ length: 20 }, () => new AbortController());
    const requests = aborts.map((a, k) =>
      get(k % 2 ? `/live/show-1/${hint}` : `/live/show-1/ll.m3u8?_HLS_msn=${msn}&_HLS_part=${i}`, {
        signal: a.signal,
      }).catch(() => 'aborted'),
    );
    while (state.waiters.size < 20) await new Promise((r) => setTimeout(r, 20));
    for (const a of aborts) a.abort();
    expect(await Promise.all(requests)).toEqual(Array(20).fill('aborted'));
    while (state.waiters.size > 0) await new Promise((r) => setTimeout(r, 20));
    expect(state.waiters.size).toBe(0);
  });

  it('ends with the hub: waiters answered, later requests 404; HLS off is 404 saying so', async () => {
    t = await setup();
    t.start(3500);
    const { hint } = await llPlaylist();
    const blocked = get(`/live/show-1/${hint}`);
    expect(await pending(blocked)).toBe(true);
    t.closeHub();
    expect((await blocked).status).toBe(200); // the end closes the open part: the hint is answered
    expect(t.hls.segmenters).toBe(0);
    expect(t.hls.sessions.size).toBe(0);
    expect((await get('/live/show-1/index.m3u8')).status).toBe(404);
    await t.stop();

    t = await setup({ ...SETTINGS, enabled: false });
    t.start(3500);
    const off = await get('/live/show-1/index.m3u8');
    expect(off.status).toBe(404);
    expect(off.headers.get('cache-control')).toBe('no-cache');
    expect(((await off.json()) as { message: string }).message).toMatch(/HLS is off/);
  });

  it('a first request waits until the playlist lists a whole segment, not only parts', async () => {
    t = await setup();
    const first = get('/live/show-1/ll.m3u8');
    const plain = get('/live/show-1/index.m3u8');
    expect(await pending(first)).toBe(true);
    t.pushUntil(900); // parts of the first segment, which ends at the keyframe at 1080 ms
    expect(t.hls.stats('show-1')!.parts).toBeGreaterThan(0);
    expect(await pending(first)).toBe(true);
    expect(await pending(plain)).toBe(true);
    t.pushUntil(1500);
    for (const res of [await first, await plain]) {
      expect(res.status).toBe(200);
      expect((HLS.parse(await res.text()) as HLS.types.MediaPlaylist).segments.length).toBeGreaterThanOrEqual(
        1,
      );
    }
  });

  it('with recording on, the sweep segments a stream nobody asked for and never idles it; without, it waits for a request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'astral-hls-rec-'));
    try {
      t = await setup({ ...SETTINGS, idleMs: 1, recordDir: dir });
      t.pushUntil(500);
      t.hls.sweep();
      expect(t.hls.segmenters).toBe(1);
      t.pushUntil(4500);
      t.hls.sweep(); // long past idleMs without a request: a recording goes on
      expect(t.hls.segmenters).toBe(1);
      expect(t.hls.stats('show-1')!.liveMsn).toBeGreaterThanOrEqual(3);
      await t.stop();

      t = await setup({ ...SETTINGS, idleMs: 1 });
      t.pushUntil(500);
      t.hls.sweep();
      expect(t.hls.segmenters).toBe(0);
      t.hls.open('show-1');
      await new Promise((resolve) => setTimeout(resolve, 5));
      t.hls.sweep(); // idle past idleMs: segmenting stops
      expect(t.hls.segmenters).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("dates the joined GOP by the hub's latest clock stamp: the first segment's PDT lines up with the next", async () => {
    t = await setup();
    const base = Date.parse('2026-01-01T00:00:00Z');
    // The source's stamps, once a second on the stream's timeline, as the publishing relay inserts them.
    let nextStamp = 0;
    const pushStamped = (ms: number): void => {
      for (const tag of TAGS.filter((x) => x.timestamp <= ms)) {
        if (tag.timestamp >= nextStamp) {
          t.hub.ingest(clockTag(nextStamp, base + nextStamp));
          nextStamp += 1000;
        }
      }
    };
    // Only stamps up to 4.5 s reach the hub before HLS opens; the GOP cache holds the tags from 4080 ms.
    pushStamped(4500);
    t.pushUntil(4500);
    t.hls.open('show-1');
    for (let ms = 5000; ms <= 8500; ms += 500) {
      pushStamped(ms);
      t.pushUntil(ms);
    }
    const res = await get('/live/show-1/index.m3u8');
    const playlist = HLS.parse(await res.text()) as HLS.types.MediaPlaylist;
    expect(playlist.segments.length).toBeGreaterThanOrEqual(2);
    const [s0, s1] = playlist.segments;
    // The first segment starts with the cached GOP (its keyframe at 4080 ms, audio from 4000): dated by the
    // stamps' clock, not by the time of the request.
    expect(Math.abs(s0.programDateTime!.getTime() - (base + 4040))).toBeLessThanOrEqual(60);
    expect(s1.programDateTime!.getTime() - s0.programDateTime!.getTime()).toBeCloseTo(s0.duration * 1000, -2);
  });
});
