import { Server as HttpServer } from 'node:http';
import { Server, Socket } from 'node:net';
import type { Logger } from '@astral/config';
import { ConnectionCaps, ConnectionGate } from './connection-gate';
import { LogThrottle } from './log-throttle';

export interface ListenerLimits extends ConnectionCaps {
  /** From accept until the peer has said what it wants (a whole HTTP request head, an RTMP connect and publish/play). */
  handshakeTimeoutMs: number;
  /** No byte read or written for this long closes the connection. */
  idleTimeoutMs: number;
}

const HANDSHAKE_TIMER = Symbol('astral.handshakeTimer');
type GuardedSocket = Socket & { [HANDSHAKE_TIMER]?: NodeJS.Timeout };

/**
 * Owns the connection-level defences of one listening port: the connection caps (per port and per remote
 * address), the handshake timeout, the idle timeout, and socket errors (logged, never thrown). Protocol code
 * calls `handshakeDone(socket)` once the peer is a real publisher, player or client.
 */
export class ListenerGuard {
  readonly gate: ConnectionGate;
  private readonly throttle = new LogThrottle();
  timeouts = 0;

  constructor(
    readonly name: string,
    readonly limits: ListenerLimits,
    private readonly log: Logger,
  ) {
    this.gate = new ConnectionGate(limits);
  }

  attach(server: Server): void {
    server.prependListener('connection', (socket: Socket) => this.onConnection(socket));
  }

  handshakeDone(socket: Socket): void {
    const s = socket as GuardedSocket;
    const timer = s[HANDSHAKE_TIMER];
    if (timer) {
      clearTimeout(timer);
      s[HANDSHAKE_TIMER] = undefined;
    }
  }

  private onConnection(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    // A socket error is the peer's business: it closes the connection, and is never thrown into the process.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE')
        this.note('socket error', address, { err: err.message });
    });
    const refused = this.gate.admit(address);
    if (refused) {
      this.note('connection refused', address, {
        reason:
          refused === 'listener-full'
            ? `port has ${this.limits.maxConnections} connections open`
            : `address has ${this.limits.maxPerAddress} connections open`,
      });
      socket.destroy();
      return;
    }
    socket.once('close', () => {
      this.handshakeDone(socket);
      this.gate.release(address);
    });
    const s = socket as GuardedSocket;
    s[HANDSHAKE_TIMER] = setTimeout(() => {
      this.timeouts += 1;
      this.note('handshake timeout', address, { timeoutMs: this.limits.handshakeTimeoutMs });
      socket.destroy();
    }, this.limits.handshakeTimeoutMs);
    s[HANDSHAKE_TIMER].unref();
    socket.setTimeout(this.limits.idleTimeoutMs);
    socket.on('timeout', () => {
      this.timeouts += 1;
      this.note('idle timeout', address, { timeoutMs: this.limits.idleTimeoutMs });
      socket.destroy();
    });
  }

  private note(what: string, address: string, fields: Record<string, unknown>): void {
    const suppressed = this.throttle.take(`${what}|${address}`);
    if (suppressed === null) return;
    this.log.warn(
      {
        listener: this.name,
        remote: address,
        ...fields,
        ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
      },
      `${this.name}: ${what}`,
    );
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
};

function clientErrorStatus(err: NodeJS.ErrnoException): number {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 431;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_HEADERS_TIMEOUT') return 408;
  return 400;
}

const ANSWERED = Symbol('astral.answered');
type AnsweredSocket = Socket & { [ANSWERED]?: boolean };
const LINGER_MS = 2000;

/**
 * After the error answer: keep reading, and discarding, what the peer is still sending (the rest of a
 * 1 MiB header), so that closing with unread bytes does not make the kernel send a reset, which would
 * destroy the answer before the peer has read it. The socket closes when the peer ends, or after LINGER_MS.
 */
function lingeringClose(socket: Socket): void {
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * Node's HTTP server with Astral's limits: the guard above; no cap on how long a request body may keep
 * arriving (a live FLV publish is one POST that lasts for days; Node's default `requestTimeout` of 300 s cut
 * it), idleness bounded instead; a request head must be complete within the handshake timeout; and a
 * malformed request is answered with its status (400, 408, 431) and a reason, instead of a reset.
 */
export function hardenHttpServer(server: HttpServer, guard: ListenerGuard, log: Logger): void {
  guard.attach(server);
  server.requestTimeout = 0;
  server.headersTimeout = guard.limits.handshakeTimeoutMs;
  server.keepAliveTimeout = 5000;
  server.on('request', (req) => guard.handshakeDone(req.socket));
  // ws answers an upgrade itself: the head is complete, so the handshake is done.
  server.on('upgrade', (req) => guard.handshakeDone(req.socket));
  server.removeAllListeners('clientError');
  const throttle = new LogThrottle();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const status = clientErrorStatus(err);
    const address = socket.remoteAddress ?? 'unknown';
    const suppressed = throttle.take(`${status}|${address}`);
    if (suppressed !== null && err.code !== 'ECONNRESET') {
      log.warn(
        {
          listener: guard.name,
          remote: address,
          status,
          code: err.code,
          ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
        },
        `${guard.name}: malformed request refused`,
      );
    }
    // Already answered: the parser fails again on the bytes still arriving; the lingering close below ends it.
    if ((socket as AnsweredSocket)[ANSWERED]) return;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    (socket as AnsweredSocket)[ANSWERED] = true;
    const body = JSON.stringify({
      status,
      error: 'bad-request',
      message: `malformed HTTP request (${err.code ?? err.message})`,
    });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    lingeringClose(socket);
  });
}
