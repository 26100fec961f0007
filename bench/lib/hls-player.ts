import http, { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';
import { CHROMIUM_OFFLINE_ARGS, CHROMIUM_PATH, repoRoot } from '@astral/testing';

/**
 * Latency at the player, as a viewer feels it: hls.js playing in Chromium, sampled every 500 ms.
 * `playingDateMs` is the wall-clock date of the frame on screen, from the playlist's EXT-X-PROGRAM-DATE-TIME
 * (the source relay's clock, stamped into the stream once a second and carried down the tree), so
 * `Date.now() − playingDate` is the publisher-to-player latency on one machine's clock. `liveEdgeMs` is
 * hls.js's own `latency` (behind the playlist's live edge), which needs no date and reads any server the same.
 */
export interface HlsPlayerSample {
  atMs: number;
  currentTime: number;
  /** Date.now() − hls.playingDate; null without a program date time. */
  dateLatencyMs: number | null;
  /** hls.latency × 1000: behind the live edge of the playlist. */
  liveEdgeMs: number;
}

export interface HlsPlayerRun {
  samples: HlsPlayerSample[];
  /** Seconds of video played during the sampling: about the sampling time when nothing stalled. */
  playedS: number;
  errors: string[];
}

/** The page: hls.js and two functions the bench calls by name (plain JS, run in the browser). */
const PAGE = `<!doctype html><video id="v" muted autoplay playsinline></video><script src="/hls.js"></script>
<script>
  var errors = [];
  var player = null;
  function startPlayer(url, ll) {
    player = new Hls({ lowLatencyMode: ll, maxLiveSyncPlaybackRate: 1.5, liveDurationInfinity: true });
    player.on(Hls.Events.ERROR, function (_e, d) { if (d.fatal) errors.push(d.details); });
    var v = document.getElementById('v');
    player.loadSource(url);
    player.attachMedia(v);
    v.play().catch(function () {});
  }
  function sample() {
    var date = player.playingDate;
    return {
      atMs: Date.now(),
      currentTime: document.getElementById('v').currentTime,
      dateLatencyMs: date ? Date.now() - date.getTime() : null,
      liveEdgeMs: Math.round(player.latency * 1000),
    };
  }
</script>`;

/** One Chromium for the bench's players, and the tiny page that loads hls.js. */
export class HlsPlayers {
  private constructor(
    private readonly browser: Browser,
    private readonly server: Server,
    private readonly base: string,
  ) {}

  static async start(): Promise<HlsPlayers> {
    const hlsJs = readFileSync(join(repoRoot(), 'node_modules', 'hls.js', 'dist', 'hls.min.js'));
    const server = http.createServer((req, res) => {
      const js = req.url === '/hls.js';
      res.writeHead(200, { 'Content-Type': js ? 'text/javascript' : 'text/html' });
      res.end(js ? hlsJs : PAGE);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_OFFLINE_ARGS, '--autoplay-policy=no-user-gesture-required'],
      timeout: 30_000,
    });
    return new HlsPlayers(browser, server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  }

  /** Plays `url` (LL-HLS when `lowLatency`) for `warmupS`, then samples for `seconds`. */
  async play(url: string, lowLatency: boolean, warmupS: number, seconds: number): Promise<HlsPlayerRun> {
    const page = await this.browser.newPage();
    try {
      await page.goto(this.base);
      await page.evaluate(`startPlayer(${JSON.stringify(url)}, ${lowLatency})`);
      await page.waitForTimeout(warmupS * 1000);
      const sample = () => page.evaluate<HlsPlayerSample>('sample()');
      const samples: HlsPlayerSample[] = [];
      for (let k = 0; k < seconds * 2; k++) {
        samples.push(await sample());
        await page.waitForTimeout(500);
      }
      const errors = await page.evaluate<string[]>('errors');
      const playedS = samples.length ? samples[samples.length - 1].currentTime - samples[0].currentTime : 0;
      return { samples, playedS, errors };
    } finally {
      await page.close();
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
