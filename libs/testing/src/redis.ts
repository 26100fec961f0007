import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { ManagedProcess, makeTempDir, removeTempDir, spawnManaged } from './managed-process';
import { freePort } from './ports';
import { WaitAbortedError, waitFor } from './wait-for';

export interface RedisHandle {
  url: string;
  port: number;
  /** The redis-server log, inside its temp dir. */
  logFile: string;
  /** Stops redis-server (SIGTERM) and removes its temp dir. */
  stop(): Promise<void>;
  /** SIGKILLs redis-server, as a crash would; restart() brings it back. */
  kill(): Promise<void>;
  /** Stops it if running, then starts a new redis-server on the same port. */
  restart(): Promise<void>;
}

/**
 * Sends PING over a raw connection and resolves true on +PONG (or, with `authRequired`, on the NOAUTH
 * refusal of a server whose default user is off: it answers).
 */
export function pingRedis(
  port: number,
  host = '127.0.0.1',
  timeoutMs = 1000,
  authRequired = false,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    let answer = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n'))
        finish(answer.startsWith('+PONG') || (authRequired && answer.startsWith('-NOAUTH')));
    });
  });
}

/** Throws (ending a waitFor) when a redis-server being started has exited, saying why. */
export function assertRedisRunning(p: ManagedProcess): void {
  if (p.running) return;
  const why = p.spawnError
    ? `${p.spawnError.message} (install it: apt-get install redis-server)`
    : `it exited with ${JSON.stringify(p.exitStatus)}: ${p.readLog(2000)}`;
  throw new WaitAbortedError(`redis-server did not start: ${why}`);
}

/**
 * Starts a private redis-server on a free port of `host` (default 127.0.0.1), in a temp dir, without persistence, and
 * waits until it answers PING. Requires redis-server on PATH (apt-get install redis-server).
 */
export async function startRedis(
  options: {
    port?: number;
    timeoutMs?: number;
    host?: string;
    /** Lines of a Redis ACL file (`user …`), loaded with --aclfile; its default user should be off. */
    acl?: string[];
    /** Extra redis-server arguments, e.g. ['--maxclients', '20000']. */
    args?: string[];
  } = {},
): Promise<RedisHandle> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const dir = makeTempDir('astral-redis-');
  const logFile = `${dir}/redis.log`;
  const aclArgs: string[] = [];
  if (options.acl) {
    writeFileSync(`${dir}/users.acl`, `${options.acl.join('\n')}\n`, { mode: 0o600 });
    aclArgs.push('--aclfile', `${dir}/users.acl`);
  }
  let proc: ManagedProcess | null = null;

  const launch = async (): Promise<void> => {
    const p = spawnManaged(
      'redis-server',
      [
        ...['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir],
        // Protected mode refuses clients from other addresses, e.g. network namespaces on a bridge.
        ...(host === '127.0.0.1' ? [] : ['--protected-mode', 'no']),
        ...aclArgs,
        ...(options.args ?? []),
      ],
      { command: 'redis-server', logFile },
    );
    proc = p;
    await waitFor(
      async () => {
        assertRedisRunning(p);
        return pingRedis(port, host, 1000, options.acl !== undefined);
      },
      {
        timeoutMs: options.timeoutMs ?? 10_000,
        intervalMs: 20,
        what: `redis-server to answer PING on port ${port}`,
      },
    );
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const p = proc;
    proc = null;
    if (p) await p.stop(signal, 5000);
  };

  try {
    await launch();
  } catch (err) {
    await halt('SIGKILL');
    removeTempDir(dir);
    throw err;
  }

  return {
    url: `redis://${host}:${port}`,
    port,
    logFile,
    stop: async () => {
      await halt('SIGTERM');
      removeTempDir(dir);
    },
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      await launch();
    },
  };
}
