import type {
  LeaveReply,
  ListedStream,
  NodeSettings,
  NodeStatus,
  NodesReply,
  PublishReply,
  PublishStreamRequest,
  RevokeTicketReply,
  StopWatchReply,
  TicketsReply,
  UpdateSettingsRequest,
  WatchReply,
} from '@astral/contracts';
import { NodeConfig, readApiToken } from '@astral/config';
import { errorMessage } from '../output';

/** A client of a node agent's local HTTP API; the replies are typed by @astral/contracts' agent-api. */

export const DEFAULT_NODE_URL = 'http://127.0.0.1:7000';
/** POST /watch keeps trying for a ticket for up to 10 s on the node's side. */
const REQUEST_TIMEOUT_MS = 30_000;

/** A failure to show as `astral node <cmd>: <message>` with exit code 1. */
export class NodeApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly fields?: Record<string, string[]>,
  ) {
    super(message);
    this.name = NodeApiError.name;
  }
}

/** The agent API's base URL from --node: http(s) only, no trailing slash. */
export function nodeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new NodeApiError(`--node must be a URL like ${DEFAULT_NODE_URL}, not ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NodeApiError(`--node must be an http:// or https:// URL, not ${JSON.stringify(raw)}`);
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** What to say when the node at `base` could not be reached at all (HTTP or WebSocket). */
export function unreachableError(base: string, err: unknown): NodeApiError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (err as { code?: string }).code;
  if (code === 'ECONNREFUSED') {
    return new NodeApiError(
      `no node answers at ${base} (connection refused). Start one with \`astral node start\`, or point --node at its API.`,
    );
  }
  if ((err as Error).name === 'TimeoutError') {
    return new NodeApiError(`the node at ${base} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
  }
  return new NodeApiError(`cannot reach the node at ${base}: ${cause?.message ?? code ?? errorMessage(err)}`);
}

/**
 * The token to send to a node's API: --api-token (ASTRAL_API_TOKEN) if given, else the one the node
 * keeps in its data directory (`<dataDir>/api-token`), else none (open reads still work).
 */
export function resolveApiToken(
  apiToken: string | undefined,
  dataDir: string = new NodeConfig().dataDir,
): string | undefined {
  if (apiToken) return apiToken.trim();
  try {
    return readApiToken(dataDir);
  } catch (err) {
    throw new NodeApiError(errorMessage(err));
  }
}

/** Calls the agent's API; a non-2xx answer throws NodeApiError with the API's own message. */
async function call<T>(
  base: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(token && { authorization: `Bearer ${token}` }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw unreachableError(base, err);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const b = parsed as { message?: unknown; error?: unknown; fields?: Record<string, string[]> } | undefined;
    if (b && typeof b === 'object' && typeof b.message === 'string') {
      throw new NodeApiError(
        b.message,
        res.status,
        typeof b.error === 'string' ? b.error : undefined,
        b.fields,
      );
    }
    const detail = typeof parsed === 'string' && parsed.trim() ? `: ${parsed.trim().slice(0, 300)}` : '';
    throw new NodeApiError(`${method} ${path} answered HTTP ${res.status}${detail}`, res.status);
  }
  return parsed as T;
}

/** One method per endpoint of the agent's local API (apps/node-agent's *.http.controller.ts). */
export class NodeApiClient {
  /**
   * @param base the API's base URL, as nodeBaseUrl gives it.
   * @param token the node's API token (resolveApiToken), sent as a bearer token; without it only the
   *   open reads (status, settings, nodes) succeed.
   */
  constructor(
    readonly base: string,
    private readonly token?: string,
  ) {}

  status(): Promise<NodeStatus> {
    return call(this.base, this.token, 'GET', '/api/status');
  }

  settings(): Promise<NodeSettings> {
    return call(this.base, this.token, 'GET', '/api/settings');
  }

  updateSettings(change: UpdateSettingsRequest): Promise<NodeSettings> {
    return call(this.base, this.token, 'PATCH', '/api/settings', change);
  }

  nodes(): Promise<NodesReply> {
    return call(this.base, this.token, 'GET', '/api/nodes');
  }

  streams(): Promise<ListedStream[]> {
    return call(this.base, this.token, 'GET', '/api/streams');
  }

  publish(stream: PublishStreamRequest): Promise<PublishReply> {
    return call(this.base, this.token, 'POST', '/api/streams', stream);
  }

  watch(streamId: string): Promise<WatchReply> {
    return call(this.base, this.token, 'POST', `/api/streams/${encodeURIComponent(streamId)}/watch`);
  }

  seed(streamId: string): Promise<WatchReply> {
    return call(this.base, this.token, 'POST', `/api/streams/${encodeURIComponent(streamId)}/seed`);
  }

  stop(streamId: string): Promise<StopWatchReply> {
    return call(this.base, this.token, 'DELETE', `/api/streams/${encodeURIComponent(streamId)}/watch`);
  }

  tickets(): Promise<TicketsReply> {
    return call(this.base, this.token, 'GET', '/api/tickets');
  }

  revoke(ticketId: string): Promise<RevokeTicketReply> {
    return call(this.base, this.token, 'DELETE', `/api/tickets/${encodeURIComponent(ticketId)}`);
  }

  leave(): Promise<LeaveReply> {
    return call(this.base, this.token, 'POST', '/api/leave');
  }
}
