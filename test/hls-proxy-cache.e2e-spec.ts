import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  ManagedProcess,
  freePort,
  makeTempDir,
  spawnManaged,
  waitFor,
  withLogsOnFailure,
} from '@astral/testing';
import { RelayTestbed, TestRelay, startRelayTestbed } from '../bench/lib/relay-testbed';
import { NGINX_BIN, nginxTempPaths } from '../bench/peers/nginx-rtmp';

/**
 * A reverse proxy that caches, in front of a relay's HLS (docs/RELAY.md "HLS", headers): nginx with
 * proxy_cache honouring the relay's Cache-Control. Media (immutable, under the run's epoch) is served from the
 * cache after one fetch, so the relay sends each segment once however many viewers the proxy has; a
 * blocking reload (public, max-age) is cached by its full URL, so a proxy collapses the same reload of many
 * players; the non-blocking LL playlist (no-cache) and a 404 are never cached.
 */
describe('HLS behind a caching reverse proxy (nginx)', () => {
  let bed: RelayTestbed;
  let relay: TestRelay;
  let nginx: ManagedProcess;
  let base = '';
  const streamId = `cache-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    bed = await startRelayTestbed();
    relay = await bed.startRelay('relayA');
    await bed.publish(relay, streamId);
    await relay.waitForTagsIn(streamId, 50, { timeoutMs: 30_000, what: `${streamId} live on relayA` });
    const dir = makeTempDir('astral-nginx-cache-');
    mkdirSync(join(dir, 'cache'));
    const port = await freePort();
    const temp = nginxTempPaths(dir);
    writeFileSync(
      join(dir, 'nginx.conf'),
      [
        // As root (CI), workers would drop to nobody and could not write the private cache and temp dirs.
        ...(process.getuid?.() === 0 ? ['user root;'] : []),
        'worker_processes 1;',
        `pid ${join(dir, 'nginx.pid')};`,
        `error_log ${join(dir, 'error.log')} warn;`,
        'events { worker_connections 256; }',
        'http {',
        '  access_log off;',
        ...temp,
        `  proxy_cache_path ${join(dir, 'cache')} keys_zone=hls:1m max_size=64m;`,
        '  server {',
        `    listen 127.0.0.1:${port};`,
        '    location / {',
        `      proxy_pass http://127.0.0.1:${relay.ports.http};`,
        '      proxy_cache hls;',
        '      proxy_cache_lock on;', // concurrent misses of one URL: one fetch upstream
        '      add_header X-Cache-Status $upstream_cache_status always;',
        '    }',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    nginx = spawnManaged(
      'nginx-cache',
      ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
      { command: NGINX_BIN, logFile: join(dir, 'stdout.log') },
    );
    base = `http://127.0.0.1:${port}/live/${streamId}`;
    let last = '';
    await waitFor(
      async () => {
        const res = await fetch(`${base}/index.m3u8`).catch((err: Error) => err);
        last = res instanceof Error ? res.message : `${res.status} ${await res.text()}`;
        if (!nginx.running) throw new Error(`nginx exited: ${nginx.readLog(2000)}`);
        return !(res instanceof Error) && res.status === 200;
      },
      {
        timeoutMs: 20_000,
        intervalMs: 250,
        what: 'the plain playlist through nginx',
      },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last answer: ${last}`);
    });
  }, 120_000);

  afterAll(async () => {
    await nginx?.stop('SIGTERM', 5000);
    await bed?.stop();
  }, 60_000);

  const hlsBytes = async (): Promise<number> => (await relay.stats()).hlsBytes ?? 0;
  const cacheStatus = (res: Response): string | null => res.headers.get('x-cache-status');

  it(
    'serves a segment from the cache after one fetch: the relay sends its bytes once',
    () =>
      withLogsOnFailure(
        () => bed.logs(4000),
        async () => {
          const playlist = await (await fetch(`${base}/index.m3u8`)).text();
          const uri = playlist.split('\n').find((l) => /^[a-z0-9]+\/s\d+\.m4s$/.test(l));
          expect(uri).toBeDefined();
          const first = await fetch(`${base}/${uri}`);
          const body = Buffer.from(await first.arrayBuffer());
          expect(first.status).toBe(200);
          expect(cacheStatus(first)).toBe('MISS');
          expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
          const before = await hlsBytes();
          for (let k = 0; k < 5; k++) {
            const again = await fetch(`${base}/${uri}`);
            expect(again.status).toBe(200);
            expect(cacheStatus(again)).toBe('HIT');
            expect(Buffer.from(await again.arrayBuffer()).equals(body)).toBe(true);
          }
          // Five viewers' worth of the segment, and the relay sent none of it again (a playlist or two at most).
          expect((await hlsBytes()) - before).toBeLessThan(body.length);
        },
      ),
    60_000,
  );

  it(
    'caches a blocking reload by its URL; never the non-blocking LL playlist or a 404',
    () =>
      withLogsOnFailure(
        () => bed.logs(4000),
        async () => {
          const ll = await fetch(`${base}/ll.m3u8`);
          expect(ll.headers.get('cache-control')).toBe('no-cache');
          expect(cacheStatus(await fetch(`${base}/ll.m3u8`))).not.toBe('HIT');
          const text = await ll.text();
          const msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)![1]);
          const reload = `${base}/ll.m3u8?_HLS_msn=${msn}&_HLS_part=0`; // exists already: answered at once
          const a = await fetch(reload);
          expect(a.status).toBe(200);
          expect(a.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
          const b = await fetch(reload);
          expect(cacheStatus(b)).toBe('HIT');
          expect(await b.text()).toBe(await a.text());
          const epoch = /URI="([a-z0-9]+)\/init/.exec(text)![1];
          const gone = `${base}/${epoch}/s0.m4s`;
          if (msn > 0) {
            // s0 has left the window (or never existed at this run's start): 404, and never from the cache.
            for (let k = 0; k < 2; k++) {
              const r = await fetch(gone);
              expect(r.status).toBe(404);
              expect(cacheStatus(r)).not.toBe('HIT');
            }
          }
          const unknown = await fetch(`${base}/${epoch}/s99999999.m4s`);
          expect(unknown.status).toBe(404);
          expect(cacheStatus(await fetch(`${base}/${epoch}/s99999999.m4s`))).not.toBe('HIT');
        },
      ),
    60_000,
  );
});
