import WebSocket from 'ws';
import { AGENT_EVENTS_PATH, AgentEvent } from '@astral/contracts';
import { NodeApiError, unreachableError } from './node-api-client';

/**
 * One message of the events WebSocket as an event, or null for one that is not (not JSON, or without the
 * `type` and `at` every event has). Events of types this CLI does not know yet pass: they render generically.
 */
export function parseAgentEvent(text: string): AgentEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { type, at } = value as { type?: unknown; at?: unknown };
  return typeof type === 'string' && typeof at === 'string' ? (value as AgentEvent) : null;
}

/**
 * Follows the node's WebSocket of events, handing each to `onEvent`, until Ctrl-C (resolves) or until the
 * node closes it (rejects with NodeApiError).
 */
export function followEvents(base: string, onEvent: (event: AgentEvent) => void): Promise<void> {
  const wsUrl = `${base.replace(/^http/, 'ws')}${AGENT_EVENTS_PATH}`;
  return new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { handshakeTimeout: 10_000 });
    let opened = false;
    let stopping = false;
    const stop = (): void => {
      stopping = true;
      ws.close(1000);
      // Do not wait on a node that does not answer the close.
      setTimeout(() => resolve(), 1000).unref();
    };
    ws.on('open', () => {
      opened = true;
      process.stderr.write(`astral node events: following ${wsUrl}; Ctrl-C to stop\n`);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      const event = parseAgentEvent(text);
      if (event) onEvent(event);
      else
        process.stderr.write(
          `astral node events: ignored a message that is not an event: ${text.slice(0, 200)}\n`,
        );
    });
    ws.on('unexpected-response', (_req, res) => {
      reject(new NodeApiError(`${wsUrl} refused the WebSocket with HTTP ${res.statusCode}`));
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      if (!opened) reject(unreachableError(base, err));
      else if (!stopping) reject(new NodeApiError(`the events connection failed: ${err.message}`));
    });
    ws.on('close', (code) => {
      if (stopping) resolve();
      else if (opened)
        reject(new NodeApiError(`the node closed the events connection (code ${code}); it may have stopped`));
    });
  });
}
