import { IncomingMessage, Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { Logger } from '@astral/config';
import { AGENT_EVENTS_PATH } from '@astral/contracts';
import { AgentEvents } from './agent-events';

/**
 * The local WebSocket of events at /api/events: node joined or left, tickets created or ended,
 * upstream switched, streams live or ended. One JSON object per message. Browser origins are checked
 * like CORS: the directory's origin and localhost only.
 */
export function attachEventsSocket(
  server: Server,
  events: AgentEvents,
  originAllowed: (origin: string | undefined) => boolean,
  log: Logger,
  /** A ping this often keeps a quiet socket from the API port's idle timeout (a pong is activity). */
  pingIntervalMs = 20_000,
): WebSocketServer {
  const wss = new WebSocketServer({
    server,
    path: AGENT_EVENTS_PATH,
    verifyClient: ({ origin }: { origin: string; req: IncomingMessage }) =>
      originAllowed(origin || undefined),
  });
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
