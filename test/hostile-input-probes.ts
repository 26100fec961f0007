import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Socket, connect } from 'node:net';
import { sleep } from '@astral/testing';

/** What a raw TCP exchange with a port came to. */
export interface RawExchange {
  /** Everything the server sent (latin1). */
  text: string;
  /** The server closed (or reset) the connection before `timeoutMs`. */
  closedByServer: boolean;
  reset: boolean;
  /** Milliseconds from connect to the server's close. */
  closedAfterMs: number | null;
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * Connects, then runs `feed` (which writes to the socket and may stop once the server answers), and
 * collects the answer until the server closes or `timeoutMs` passes; the client then destroys its side.
 */
async function exchange(
  port: number,
  timeoutMs: number,
  feed: (s: Socket, answered: () => boolean) => Promise<void>,
): Promise<RawExchange> {
  const started = Date.now();
  const socket = await openSocket(port);
  const chunks: Buffer[] = [];
  let closedAt: number | null = null;
  let reset = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') reset = true;
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.once('end', () => (closedAt ??= Date.now()));
  socket.once('close', () => (closedAt ??= Date.now()));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  const fed = feed(socket, () => chunks.length > 0 || closedAt !== null).catch(() => undefined);
  await Promise.race([closed, deadline]);
  clearTimeout(timer);
  await Promise.race([fed, sleep(50)]);
  const closedByServer = closedAt !== null;
  socket.destroy();
  return {
    text: Buffer.concat(chunks).toString('latin1'),
    closedByServer,
    reset,
    closedAfterMs: closedAt === null ? null : closedAt - started,
  };
}

/** Sends `data` at once and waits for the answer. */
export function sendRaw(port: number, data: Buffer | string, timeoutMs = 5000): Promise<RawExchange> {
  return exchange(port, timeoutMs, (s) => {
    s.write(data);
    return Promise.resolve();
  });
}

/** The HTTP status of a raw answer, or null. */
export function statusOf(ex: RawExchange): number | null {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(ex.text);
  return m ? Number(m[1]) : null;
}

/** A request whose head carries one header of `bytes` bytes, written in pieces until the server answers. */
export function hugeHeader(port: number, path: string, bytes = 1024 * 1024): Promise<RawExchange> {
  return exchange(port, 10_000, async (s, answered) => {
    s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: `);
    const piece = Buffer.alloc(16 * 1024, 0x61);
    for (let sent = 0; sent < bytes && !answered() && !s.destroyed; sent += piece.length) {
      if (!s.write(piece)) await new Promise<void>((r) => s.once('drain', () => r()));
    }
    if (!answered() && !s.destroyed) s.write('\r\n\r\n');
  });
}

/** A slowloris: a request head sent one byte per `intervalMs`, never finished within `timeoutMs`. */
export function slowloris(port: number, timeoutMs: number, intervalMs = 1000): Promise<RawExchange> {
  const head = Buffer.from(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`);
  return exchange(port, timeoutMs, async (s, answered) => {
    for (let i = 0; i < head.length && !answered() && !s.destroyed; i += 1) {
      s.write(head.subarray(i, i + 1));
      await sleep(intervalMs);
    }
  });
}

export const randomGarbage = (bytes = 64 * 1024): Buffer => randomBytes(bytes);

/**
 * Opens `count` connections at once and holds them for `holdMs`; reports how many the server closed
 * (refused) and how many were still open, then closes them all.
 */
export async function flood(
  port: number,
  count: number,
  holdMs = 1000,
): Promise<{ refused: number; held: number }> {
  const sockets: Socket[] = [];
  const closed = new Set<Socket>();
  await Promise.all(
    Array.from({ length: count }, async () => {
      try {
        const s = await openSocket(port);
        s.on('error', () => undefined);
        s.once('close', () => closed.add(s));
        sockets.push(s);
      } catch {
        // refused at connect: counts as refused below
      }
    }),
  );
  await sleep(holdMs);
  const refused = count - sockets.length + closed.size;
  const held = sockets.length - closed.size;
  for (const s of sockets) s.destroy();
  await sleep(200);
  return { refused, held };
}

/** JSON nested `depth` levels deep (about 2 bytes a level). */
export const deepJson = (depth = 3000): string => '['.repeat(depth) + ']'.repeat(depth);

/** The child of `parentPid` whose command line ends with `lastArg` (e.g. the agent of `astral node start`). */
export function childPid(parentPid: number, lastArg: string): number | null {
  let children: string[];
  try {
    children = readFileSync(`/proc/${parentPid}/task/${parentPid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
  } catch {
    return null;
  }
  for (const c of children) {
    try {
      const args = readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (args[args.length - 1] === lastArg) return Number(c);
    } catch {
      // exited meanwhile
    }
  }
  return null;
}
