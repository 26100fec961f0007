import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { NETWORK_SOCKET_MAX_CLIENT_MESSAGE_BYTES, NetworkClientMessage } from '@astral/contracts';

/** The bounds of the network view's socket (docs/DIRECTORY.md, "Network view"). */
export interface NetworkSocketLimits {
  /** Clients at once, over all addresses. */
  maxClients: number;
  /** Clients at once from one remote address. */
  maxPerAddress: number;
  /** Messages a client may send per `messageWindowMs`; one more closes it. */
  maxMessagesPerWindow: number;
  messageWindowMs: number;
  /** A ping this often; a client that has not answered the previous one by then is closed as idle. */
  pingIntervalMs: number;
  /** Bytes queued to one client above which it is closed as a slow reader rather than buffered. */
  maxBufferedBytes: number;
  /** A snapshot whose JSON is larger is not sent; clients get an `unavailable` message instead. */
  maxSnapshotBytes: number;
}

export const DEFAULT_NETWORK_SOCKET_LIMITS: NetworkSocketLimits = {
  maxClients: 200,
  maxPerAddress: 16,
  maxMessagesPerWindow: 10,
  messageWindowMs: 10_000,
  pingIntervalMs: 20_000,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxSnapshotBytes: 2 * 1024 * 1024,
};

/** Why an upgrade is refused: HTTP 503 with this reason, before any WebSocket exists. */
export function admissionRefusal(
  open: { total: number; fromAddress: number },
  limits: NetworkSocketLimits,
): string | null {
  if (open.total >= limits.maxClients) {
    return `the network view has ${limits.maxClients} clients connected, its limit: try again later`;
  }
  if (open.fromAddress >= limits.maxPerAddress) {
    return `your address has ${limits.maxPerAddress} network view sockets open, its limit: close one first`;
  }
  return null;
}

export type ClientMessageVerdict =
  { ok: true; message: NetworkClientMessage } | { ok: false; reason: string };

/** Checks one frame from a client: text, JSON, and a valid NetworkClientMessage; no more than that. */
export function readClientMessage(data: Buffer, isBinary: boolean): ClientMessageVerdict {
  if (isBinary) return { ok: false, reason: 'binary frames are not accepted: send JSON text' };
  if (data.length > NETWORK_SOCKET_MAX_CLIENT_MESSAGE_BYTES) {
    return { ok: false, reason: `message above ${NETWORK_SOCKET_MAX_CLIENT_MESSAGE_BYTES} bytes` };
  }
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return { ok: false, reason: 'message is not JSON: send {"type":"resync"}' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'message is not a JSON object: send {"type":"resync"}' };
  }
  const message = plainToInstance(NetworkClientMessage, value);
  const errors = validateSync(message, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    const first = errors[0];
    const text = first.constraints ? Object.values(first.constraints)[0] : `${first.property} is invalid`;
    return { ok: false, reason: text };
  }
  return { ok: true, message };
}

/** A fixed-window count of one client's messages: `take` says whether one more is within the budget. */
export class MessageBudget {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  take(now: number): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    this.used += 1;
    return this.used <= this.max;
  }
}
