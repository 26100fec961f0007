import { IncomingMessage, Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { Logger } from '@astral/config';
import { AGENT_EVENTS_PATH } from '@astral/contracts';
import { AgentEvents } from './agent-events';
import type { ApiAccess } from '../api-access/api-access';

/**
 * The local WebSocket of events at /api/events: node joined or left, tickets created or ended,
 * upstream switched, streams live or ended. One JSON object per message. The socket only sends: it
 * changes nothing and carries no secret, so it is an open read, but its upgrade passes the same Host
 * and Origin checks as every HTTP call (421 for a foreign host name, 403 for a foreign page).
 */
export function attachEventsSocket(
  server: Server,
  events: AgentEvents,
  checkAccess: (req: IncomingMessage) => ApiAccess,
  log: Logger,
  /** A ping this often keeps a quiet socket from the API port's idle timeout (a pong is activity). */
  pingIntervalMs = 20_000,
): WebSocketServer {
  const wss = new WebSocketServer({
    server,
    path: AGENT_EVENTS_PATH,
    verifyClient: (
      { req }: { origin: string; req: IncomingMessage },
      done: (ok: boolean, status?: number, message?: string) => void,
    ) => {
      const access = checkAccess(req);
      if (access.allowed) done(true);
      else done(false, access.status, access.message);
    },
  });
  // Messages from the client are not read: nothing on this socket changes the node.
  wss.on('connection', (ws) => {
    const unsubscribe = events.subscribe((event) => {
      // A slow reader is dropped rather than buffered without bound.
      if (ws.bufferedAmount > 1024 * 1024) ws.terminate();
      else ws.send(JSON.stringify(event));
    });
    const ping = setInterval(() => ws.ping(), pingIntervalMs);
    ping.unref();
    ws.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
    ws.on('error', (err) => log.debug({ err: err.message }, 'events socket error'));
  });
  return wss;
}
