import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, WaitAbortedError, freePort, repoRoot, spawnManaged, waitFor } from '@astral/testing';
import { connect } from 'node:net';

/**
 * node-media-server 4 alone, as its own process (`node node_modules/node-media-server/bin/app.js`), on
 * loopback and free ports, with its config and data in `dir`: the peer as a user would run it, not the
 * copy inside Astral's relay.
 */
export interface StandaloneNms {
  process: ManagedProcess;
  pid: number;
  rtmpUrl(stream: string): string;
  httpFlvUrl(stream: string): string;
  stop(): Promise<void>;
}

const tcpOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

export async function startStandaloneNms(dir: string): Promise<StandaloneNms> {
  mkdirSync(dir, { recursive: true });
  const rtmp = await freePort();
  const http = await freePort();
  const config = join(dir, 'config.json');
  // No auth, no admin console, no RTMPS/HTTPS: the media path only. A non-empty secret and no users keep
  // bin/app.js from generating and writing back credentials.
  writeFileSync(
    config,
    JSON.stringify({
      bind: '127.0.0.1',
      notify: { url: '' },
      store: { path: join(dir, 'data'), maxHistory: 100 },
      auth: { play: false, publish: false, secret: 'bench', jwt: { secret: 'bench', users: [] } },
      rtmp: { port: rtmp },
      http: { port: http },
      webadmin: { enable: false },
      record: { auto: false, path: join(dir, 'record') },
    }),
  );
  const bin = join(repoRoot(), 'node_modules', 'node-media-server', 'bin', 'app.js');
  const proc = spawnManaged('node-media-server', [bin, '-c', config, '--no-admin'], {
    logFile: join(dir, 'nms.log'),
  });
  await waitFor(
    async () => {
      if (!proc.running) throw new WaitAbortedError(`node-media-server exited: ${proc.readLog(2000)}`);
      return (await tcpOpen(rtmp)) && (await tcpOpen(http));
    },
    { timeoutMs: 15_000, intervalMs: 100, what: 'node-media-server to listen' },
  );
  return {
    process: proc,
    pid: proc.pid!,
    rtmpUrl: (s) => `rtmp://127.0.0.1:${rtmp}/live/${s}`,
    httpFlvUrl: (s) => `http://127.0.0.1:${http}/live/${s}.flv`,
    stop: () => proc.stop('SIGTERM', 5000).then(() => undefined),
  };
}
