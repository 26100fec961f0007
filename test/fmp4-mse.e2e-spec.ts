import { existsSync, readFileSync } from 'node:fs';
import { Browser, chromium } from 'playwright-core';
import { FlvParser } from '@astral/media';
import { CHROMIUM_OFFLINE_ARGS, CHROMIUM_PATH, remuxFlvByGop, sampleFlvPath } from '@astral/testing';

interface MseResult {
  supported: boolean;
  errors: string[];
  buffered: [number, number][];
  currentTime: number;
  decodedFrames: number;
  width: number;
  height: number;
}

/**
 * Runs in the page (a string: the project's TypeScript has no DOM types): appends the init segment and each
 * fragment in turn, as hls.js does, then plays until 2 s of media went by (bounded at 20 s of wall clock).
 */
const MSE_CHECK = `async ({ type, segments }) => {
  const video = document.querySelector('video');
  const errors = [];
  video.addEventListener('error', () => errors.push('video error ' + video.error?.code + ' ' + video.error?.message));
  const supported = MediaSource.isTypeSupported(type);
  const source = new MediaSource();
  video.src = URL.createObjectURL(source);
  await new Promise((resolve) => source.addEventListener('sourceopen', resolve, { once: true }));
  const buffer = source.addSourceBuffer(type);
  buffer.addEventListener('error', () => errors.push('SourceBuffer error'));
  for (const segment of segments) {
    buffer.appendBuffer(Uint8Array.from(atob(segment), (c) => c.charCodeAt(0)));
    await new Promise((resolve) => buffer.addEventListener('updateend', resolve, { once: true }));
  }
  const buffered = [];
  for (let i = 0; i < buffer.buffered.length; i++) buffered.push([buffer.buffered.start(i), buffer.buffered.end(i)]);
  source.endOfStream();
  await video.play();
  for (let waited = 0; video.currentTime < 2 && waited < 20000 && errors.length === 0; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const quality = video.getVideoPlaybackQuality();
  return { supported, errors, buffered, currentTime: video.currentTime, decodedFrames: quality.totalVideoFrames,
    width: video.videoWidth, height: video.videoHeight };
}`;

/**
 * The muxer's output where hls.js puts it: Chromium's Media Source Extensions, the strictest fMP4 reader
 * the players have. Init segment and fragments are appended one by one (as hls.js does), then played.
 * (HEVC is not checked here: this Chromium has no HEVC decoder; the unit specs check HEVC with ffmpeg.)
 */
describe('fMP4 from the muxer in Chromium Media Source Extensions', () => {
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`chromium is not installed at ${CHROMIUM_PATH}`);
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_OFFLINE_ARGS, '--autoplay-policy=no-user-gesture-required'],
      timeout: 30_000,
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
  });

  it('accepts the sample remuxed a fragment per GOP: 12 s buffered, played, 640x360', async () => {
    const remuxed = remuxFlvByGop(new FlvParser().push(readFileSync(sampleFlvPath())));
    const type = `video/mp4; codecs="${remuxed.tracks.video.codecString},${remuxed.tracks.audio.codecString}"`;
    const segments = [remuxed.init, ...remuxed.fragments].map((b) => b.toString('base64'));
    const page = await browser!.newPage();
    try {
      await page.setContent('<video muted></video>');
      const result = await page.evaluate<MseResult>(`(${MSE_CHECK})(${JSON.stringify({ type, segments })})`);
      expect(result.supported).toBe(true);
      expect(result.errors).toEqual([]);
      expect(result.buffered).toHaveLength(1); // no gap between fragments
      expect(result.buffered[0][0]).toBeLessThan(0.2);
      expect(result.buffered[0][1]).toBeGreaterThan(11.9);
      expect(result.currentTime).toBeGreaterThanOrEqual(2);
      expect(result.decodedFrames).toBeGreaterThan(0);
      expect([result.width, result.height]).toEqual([640, 360]);
    } finally {
      await page.close();
    }
  }, 60_000);
});
