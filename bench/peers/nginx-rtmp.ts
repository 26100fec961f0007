import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, WaitAbortedError, freePort, spawnManaged, waitFor } from '@astral/testing';
import { connect } from 'node:net';

/**
 * nginx with the RTMP module (Debian `nginx` + `libnginx-mod-rtmp`), one private process per relay:
 * `nginx -p <dir> -c <dir>/nginx.conf -e <dir>/error.log -g 'daemon off;'`, on 127.0.0.1 and a free
 * port, with its pid, logs and temp paths inside <dir>. Never the system service.
 */
export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
export const RTMP_MODULE = process.env.NGINX_RTMP_MODULE ?? '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export interface NginxRtmp {
  name: string;
  dir: string;
  port: number;
  process: ManagedProcess;
  /** The single worker process (master_process on, worker_processes 1): it does all the I/O. */
  workerPid: number;
  rtmpUrl(stream: string): string;
  /** Total bytes this nginx has sent over RTMP (pushes and players), from its rtmp_stat page. */
  bytesOut(): Promise<number>;
  errorLog(): string;
  stop(): Promise<void>;
}

export function nginxAvailable(): string | null {
  if (!existsSync(NGINX_BIN)) return `${NGINX_BIN} not found (run scripts/install-bench-deps.sh)`;
  if (!existsSync(RTMP_MODULE)) return `${RTMP_MODULE} not found (apt-get install libnginx-mod-rtmp)`;
  return null;
}

/** nginx's http-block temp paths inside `dir`, so a private nginx never writes to the system's. */
export function nginxTempPaths(dir: string): string[] {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
    (t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`,
  );
}

/** The nginx.conf of one relay: one RTMP server, application `live`, pushing to `pushTo` (rtmp://…/live). */
export function nginxRtmpConf(dir: string, port: number, pushTo: string[], statPort: number): string {
  const temp = nginxTempPaths(dir);
  return [
    `load_module ${RTMP_MODULE};`,
    'worker_processes 1;',
    'master_process on;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 4096; }',
    'rtmp {',
    '  access_log off;',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    '    chunk_size 4096;',
    '    ping 5m;',
    '    ack_window 5000000;',
    '    application live {',
    '      live on;',
    '      record off;',
    ...pushTo.map((u) => `      push ${u};`),
    '    }',
    '  }',
    '}',
    // rtmp_stat: the server's byte counters (bytes_out), read by the bench.
    'http {',
    '  access_log off;',
    ...temp,
    `  server { listen 127.0.0.1:${statPort}; location /stat { rtmp_stat all; } }`,
    '}',
    '',
  ].join('\n');
}

function workerOf(masterPid: number): number | null {
  try {
    const children = readFileSync(`/proc/${masterPid}/task/${masterPid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    return children.length ? Number(children[0]) : null;
  } catch {
    return null;
  }
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

/** Starts one nginx-rtmp relay in `root/name`. `pushTo` are the ports of the relays it pushes to. */
export async function startNginxRtmp(
  root: string,
  name: string,
  pushToPorts: number[] = [],
  port?: number,
): Promise<NginxRtmp> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const p = port ?? (await freePort());
  const conf = join(dir, 'nginx.conf');
  const statPort = await freePort();
  writeFileSync(
    conf,
    nginxRtmpConf(
      dir,
      p,
      pushToPorts.map((x) => `rtmp://127.0.0.1:${x}/live`),
      statPort,
    ),
  );
  const proc = spawnManaged(
    name,
    ['-p', dir, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
    {
      command: NGINX_BIN,
      logFile: join(dir, 'stdout.log'),
    },
  );
  let workerPid = 0;
  await waitFor(
    async () => {
      if (!proc.running) {
        const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
        throw new WaitAbortedError(`nginx ${name} exited: ${proc.readLog(2000)} ${log.slice(-2000)}`);
      }
      const w = workerOf(proc.pid!);
      if (!w || !(await tcpOpen(p))) return false;
      workerPid = w;
      return true;
    },
    { timeoutMs: 15_000, intervalMs: 50, what: `nginx ${name} to listen on ${p}` },
  );
  return {
    name,
    dir,
    port: p,
    process: proc,
    workerPid,
    rtmpUrl: (stream) => `rtmp://127.0.0.1:${p}/live/${stream}`,
    errorLog: () => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''),
    bytesOut: async () => {
      const xml = await (await fetch(`http://127.0.0.1:${statPort}/stat`)).text();
      const m = /<bytes_out>(\d+)<\/bytes_out>/.exec(xml); // the first one is the server-wide total
      if (!m) throw new Error(`no bytes_out in nginx ${name}'s rtmp_stat page`);
      return Number(m[1]);
    },
    stop: async () => {
      await proc.stop('SIGTERM', 5000);
    },
  };
}
