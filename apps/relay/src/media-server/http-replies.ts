import { ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import type { PlayerRefusalReply } from '../players/player-admission';

export function reply(res: ServerResponse, status: number, error: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ status, error, message });
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Access-Control-Allow-Origin': '*',
    Connection: 'close',
  });
  res.end(body);
}

export function errorName(status: number): string {
  return status === 404
    ? 'not-found'
    : status === 401
      ? 'unauthorized'
      : status === 403
        ? 'forbidden'
        : status === 409
          ? 'conflict'
          : status === 503
            ? 'unavailable'
            : 'bad-request';
}

/** A refused player over HTTP: a redirect to the directory's placement, or the status and reason (HEAD: the same status). */
export function refusePlayer(res: ServerResponse, refusal: PlayerRefusalReply): void {
  if (refusal.status === 302) {
    res.writeHead(302, {
      Location: refusal.location,
      'Content-Length': 0,
      'Access-Control-Allow-Origin': '*',
      Connection: 'close',
    });
    res.end();
    return;
  }
  reply(res, refusal.status, refusal.error, refusal.message);
}

/** The same refusal on a socket whose upgrade to WebSocket is refused. */
export function refuseUpgrade(
  socket: Duplex,
  refusal: PlayerRefusalReply | { status: number; message: string },
): void {
  if (refusal.status === 302 && 'location' in refusal) {
    socket.end(
      `HTTP/1.1 302 Found\r\nLocation: ${refusal.location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    return;
  }
  const r = refusal as { status: number; message: string };
  const body = JSON.stringify({ status: r.status, error: errorName(r.status), message: r.message });
  socket.end(
    `HTTP/1.1 ${r.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
