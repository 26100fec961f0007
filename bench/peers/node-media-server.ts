import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, WaitAbortedError, freePort, spawnManaged, waitFor } from '@astral/testing';
import { connect } from 'node:net';

/**
 * node-media-server alone (the npm package Astral's relay embeds, its own `bin/app.js`), one private process
 * on 127.0.0.1 and free ports, with its config and data in `root/name`; no admin console, no auth, no TLS.
 * Published with ffmpeg over RTMP, read over HTTP-FLV at /live/<stream>.flv.
 */
export interface NodeMediaServerProcess {
  process: ManagedProcess;
  pid: number;
  rtmpUrl(stream: string): string;
  httpFlvUrl(stream: string): string;
  stop(): Promise<void>;
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

export async function startNodeMediaServer(root: string, name: string): Promise<NodeMediaServerProcess> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const rtmp = await freePort();
  const http = await freePort();
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      bind: '127.0.0.1',
      notify: { url: '' },
      store: { path: join(dir, 'data') },
      // A fixed secret: left empty, app.js generates one and writes it back (harmless, but noisy).
      auth: { play: false, publish: false, secret: 'bench' },
      rtmp: { port: rtmp },
      http: { port: http },
      webadmin: { enable: false },
      record: { auto: false, path: join(dir, 'record') },
    }),
  );
  const proc = spawnManaged(name, [require.resolve('node-media-server/bin/app.js'), '-c', config], {
    logFile: join(dir, 'nms.log'),
  });
  await waitFor(
    async () => {
      if (!proc.running) throw new WaitAbortedError(`${name} exited: ${proc.readLog(2000)}`);
      return (await listening(rtmp)) && (await listening(http));
    },
    { timeoutMs: 15_000, intervalMs: 100, what: `node-media-server ${name} to listen` },
  );
  return {
    process: proc,
    pid: proc.pid!,
    rtmpUrl: (s) => `rtmp://127.0.0.1:${rtmp}/live/${s}`,
    httpFlvUrl: (s) => `http://127.0.0.1:${http}/live/${s}.flv`,
    stop: async () => {
      await proc.stop('SIGTERM', 5000);
    },
  };
}
