import { MAX_JSON_DEPTH, jsonDepthExceeds } from '@astral/net';

/**
 * Largest Redis message a server accepts. Astral's largest request, a membership heartbeat carrying
 * 1000 streams, is about 100 KB.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export interface ScreenedPacket {
  pattern: string;
  data?: unknown;
  id?: string;
}

export type ScreenResult =
  | { ok: true; packet: ScreenedPacket }
  /** `id` is the request's packet id when it could be read safely, so the refusal can be answered. */
  | { ok: false; reason: string; kind: 'too-large' | 'too-deep' | 'not-json' | 'bad-shape'; id?: string };

const PACKET_ID = /^[A-Za-z0-9-]{1,80}$/;
/** Nest's client writes the id last: `{"pattern":…,"data":…,"id":"<uuid>"}`. */
const TRAILING_ID = /"id"\s*:\s*"([A-Za-z0-9-]{1,80})"\s*}\s*$/;

/**
 * Decides whether a message received on a Redis request or event channel may reach a handler: at most
 * MAX_MESSAGE_BYTES, nested at most MAX_JSON_DEPTH levels (checked on the bytes, before any parsing),
 * JSON, and shaped as a Nest packet (an object with a string pattern and, for a request, a string id).
 * Pure, so every refusal is unit-tested; the Redis servers log the refusal and answer it.
 */
export function screenMessage(raw: string | Buffer, maxBytes = MAX_MESSAGE_BYTES): ScreenResult {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (bytes > maxBytes) {
    const id = TRAILING_ID.exec(text.slice(-160))?.[1];
    return {
      ok: false,
      kind: 'too-large',
      reason: `message of ${bytes} bytes is over the ${maxBytes}-byte limit`,
      ...(id && { id }),
    };
  }
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    const id = TRAILING_ID.exec(text.slice(-160))?.[1];
    return {
      ok: false,
      kind: 'too-deep',
      reason: `message nested deeper than ${MAX_JSON_DEPTH} levels`,
      ...(id && { id }),
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      kind: 'not-json',
      reason: `message is not JSON (${err instanceof Error ? err.message : String(err)})`,
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      kind: 'bad-shape',
      reason: 'message is not a packet object ({"pattern":…,"data":…,"id":…})',
    };
  }
  const packet = value as Record<string, unknown>;
  const id = typeof packet.id === 'string' && PACKET_ID.test(packet.id) ? packet.id : undefined;
  if (packet.id !== undefined && id === undefined) {
    return { ok: false, kind: 'bad-shape', reason: 'packet id must be 1-80 letters, digits or dashes' };
  }
  if (typeof packet.pattern !== 'string' || packet.pattern.length === 0 || packet.pattern.length > 200) {
    return {
      ok: false,
      kind: 'bad-shape',
      reason: 'packet pattern must be a string of 1-200 characters',
      ...(id && { id }),
    };
  }
  return {
    ok: true,
    packet: { pattern: packet.pattern, ...('data' in packet && { data: packet.data }), ...(id && { id }) },
  };
}
