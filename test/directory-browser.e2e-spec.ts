import type { PublishReply, StreamInfo } from '@astral/contracts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BrowserContext, chromium } from 'playwright-core';
import {
  CHROMIUM_OFFLINE_ARGS,
  CHROMIUM_PATH,
  LocalNetwork,
  httpJson,
  makeTempDir,
  removeTempDir,
  sampleFlvPath,
  startLocalNetwork,
  waitFor,
  agentApi,
} from '@astral/testing';
import { FlvFilePublisher } from '@astral/media';

const CHROMIUM = CHROMIUM_PATH;
/** Headless is set by playwright. */
const CHROMIUM_ARGS = [...CHROMIUM_OFFLINE_ARGS, '--autoplay-policy=no-user-gesture-required'];

/** What the test reads of the <video> element (the test compiles without the DOM library). */
interface MediaTime {
  currentTime: number;
}
/** The stream page's player state (apps/directory/src/pages/assets/stream-player.js). */
interface PlayerWindow {
  astralPlayer: { state: string; nodeId: string; source: boolean; hops: number; url: string };
}

/**
 * A viewer opens the directory's stream list, clicks a live stream, and the page plays it with
 * mpegts.js: there is no node of the viewer's own at 127.0.0.1:7000 here, so the player plays from
 * where the directory's placement puts it (the source, the only carrier), over HTTP-FLV with CORS.
 */
describe('directory pages in a browser', () => {
  let net: LocalNetwork | undefined;
  let publisher: FlvFilePublisher | undefined;
  let browser: BrowserContext | undefined;
  let profileDir: string | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (Debian) or set ASTRAL_CHROMIUM`,
      );
    }
    net = await startLocalNetwork({ nodes: [{}] });
  }, 200_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    if (profileDir) removeTempDir(profileDir);
    await publisher?.stop().catch(() => undefined);
    await net?.stop();
  }, 60_000);

  it('plays a live stream picked from the stream list', async () => {
    const node = net!.nodes[0];
    const stream = await agentApi<PublishReply>(node, 'POST', `/api/streams`, {
      title: 'Browser test live',
    });
    publisher = new FlvFilePublisher({ file: sampleFlvPath(), url: stream.publishUrl });
    await publisher.start();
    await waitFor(
      async () => {
        const s = await httpJson<StreamInfo>('GET', `${net!.directoryUrl}/api/streams/${stream.streamId}`);
        return s.status === 'live';
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the stream to be live in the directory' },
    );

    // A new, empty profile for every run.
    profileDir = makeTempDir('astral-chromium-');
    browser = await chromium.launchPersistentContext(join(profileDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
    });
    const page = await browser.newPage();
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    try {
      await page.goto(`${net!.directoryUrl}/?q=browser`);
      await page.getByRole('link', { name: 'Browser test live' }).click();
      await page.waitForURL(`**/streams/${stream.streamId}`);

      const video = page.locator('video#player');
      await video.waitFor({ state: 'attached', timeout: 5000 });
      // Playback has started once currentTime moves at all.
      // (Polled from here: the page's CSP forbids the eval a string predicate of waitForFunction needs.)
      await waitFor(
        async () => (await video.evaluate((v) => (v as unknown as MediaTime).currentTime)) > 0.2,
        {
          timeoutMs: 20_000,
          intervalMs: 250,
          what: 'the video to play',
        },
      );
      const t0 = await video.evaluate((v) => (v as unknown as MediaTime).currentTime);
      const samples: number[] = [t0];
      for (let i = 0; i < 5; i++) {
        await page.waitForTimeout(1000);
        samples.push(await video.evaluate((v) => (v as unknown as MediaTime).currentTime));
      }
      // currentTime advances every second, by about 5 s in all.
      for (let i = 1; i < samples.length; i++) expect(samples[i]).toBeGreaterThan(samples[i - 1]);
      expect(samples[5] - samples[0]).toBeGreaterThan(4);
      // Placed by the directory: the only carrier, the source, with a play token.
      const played = await page.evaluate(() => (globalThis as unknown as PlayerWindow).astralPlayer);
      expect(played).toMatchObject({ state: 'playing', nodeId: node.nodeId, source: true, hops: 0 });
      expect(played.url.startsWith(`${node.httpUrlBase}/${stream.streamId}.flv?`)).toBe(true);
      expect(await page.locator('#play-status').textContent()).toContain('Playing from node');
    } catch (err) {
      if (err instanceof Error) err.message += `\nbrowser console:\n${consoleLines.join('\n')}`;
      throw err;
    }
  }, 120_000);
});
