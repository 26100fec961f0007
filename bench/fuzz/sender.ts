/**
 * Sends one fuzz input on its own TCP connection to a loopback port and classifies what came back:
 * `http-<status>`, `rtmp-handshake`, `bytes` (some other answer), `closed` (closed without a word),
 * `reset`, `timeout` (still silent when the connection's time was up) or `refused` (nothing listens).
 */
import { connect } from 'node:net';

export interface SendOptions {
  /** How long a connection may stay open (default 1.5 s). */
  timeoutMs?: number;
  /** For slow inputs: bytes per write and pause between writes (slowloris). */
  slowChunkBytes?: number;
  slowIntervalMs?: number;
  /** How long to keep the connection once the server has answered (default 250 ms). */
  lingerMs?: number;
}

export type Outcome = string;

/** The reply class of the first bytes a server sent. */
export function classifyReply(first: Buffer): Outcome {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(first.toString('latin1', 0, Math.min(first.length, 32)));
  if (m) return `http-${m[1]}`;
  if (first[0] === 0x03) return 'rtmp-handshake';
  return 'bytes';
}

export function sendInput(
  host: string,
  port: number,
  bytes: Buffer,
  slow: boolean,
  options: SendOptions = {},
): Promise<Outcome> {
  const timeoutMs = options.timeoutMs ?? 1500;
  return new Promise((resolve) => {
    let outcome: Outcome | null = null;
    let head: Buffer | null = null;
    let trickle: NodeJS.Timeout | undefined;
    const socket = connect({ host, port });
    const finish = (fallback: Outcome): void => {
      clearTimeout(timer);
      clearInterval(trickle);
      socket.destroy();
      resolve(outcome ?? fallback);
    };
    let timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.setNoDelay(true);
    socket.on('connect', () => {
      if (!slow) {
        socket.write(bytes, () => undefined);
        return;
      }
      const step = options.slowChunkBytes ?? 1;
      let at = 0;
      trickle = setInterval(() => {
        if (at >= bytes.length) return clearInterval(trickle);
        socket.write(bytes.subarray(at, at + step));
        at += step;
      }, options.slowIntervalMs ?? 500);
    });
    socket.on('data', (chunk: Buffer) => {
      if (outcome) return;
      head = head ? Buffer.concat([head, chunk]) : chunk;
      if (head.length >= 12 || head[0] === 0x03) {
        outcome = classifyReply(head);
        // Answered: give the server a moment with the rest of the input, then hang up.
        clearTimeout(timer);
        timer = setTimeout(() => finish(outcome as Outcome), options.lingerMs ?? 250);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') finish('refused');
      else if (err.code === 'ECONNRESET' || err.code === 'EPIPE')
        finish(head ? classifyReply(head) : 'reset');
      else finish(`error-${err.code ?? 'unknown'}`);
    });
    socket.on('end', () => finish(head ? classifyReply(head) : 'closed'));
    socket.on('close', () => finish(head ? classifyReply(head) : 'closed'));
  });
}
