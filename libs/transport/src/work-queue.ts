import { createHash } from 'node:crypto';
import { ScreenedPacket } from './message-screen';

/**
 * The pure half of the shared work queue (work-sharing-server.ts): what goes into a queue entry, how a
 * message is recognised when several replicas receive it, and how an entry is read back.
 *
 * Redis pub/sub hands every message to every replica. Each replica screens it and offers it to the queue
 * with one atomic script: `SET <work key> NX` and, only if that set, `XADD` to the stream. So a message
 * enters the stream once however many replicas offer it, and the stream's consumer group gives each
 * entry to one replica.
 */

/** Keys of one queue share a hash tag, so the gate script's two keys sit in one Redis Cluster slot. */
export interface WorkQueueKeys {
  stream: string;
  /** Prefix of the per-message gate keys. */
  seen: string;
}

export function workQueueKeys(name: string): WorkQueueKeys {
  if (!/^[a-z][a-z0-9-]{0,40}$/.test(name)) throw new Error(`work queue name ${JSON.stringify(name)}`);
  return { stream: `{astral:${name}}:work`, seen: `{astral:${name}}:seen:` };
}

/**
 * How long a gate key lives: long enough to cover the spread between the replicas receiving one pub/sub
 * message (milliseconds; a replica a second behind the others is not one that answers in time), short
 * enough that the sender's own retry of a request (same packet id, a timeout later: seconds) is queued
 * again and answered, idempotently. An event has no id and is recognised by its bytes, for a tenth of
 * a second: two equal heartbeats of a node are two events, an interval apart.
 */
export const REQUEST_GATE_TTL_MS = 1000;
export const EVENT_GATE_TTL_MS = 100;

/**
 * The gate key of a message on `replyTo` (the channel with its `@<sender>` suffix): a request by its
 * packet id, an event by its bytes. Scoped by the sender's channel, so one sender cannot shadow
 * another's request by reusing its id.
 */
export function workKey(
  replyTo: string,
  packet: ScreenedPacket,
  raw: string,
): { key: string; ttlMs: number } {
  const h = createHash('sha1').update(replyTo).update('\n');
  if (packet.id !== undefined)
    return { key: h.update(`id:${packet.id}`).digest('base64url'), ttlMs: REQUEST_GATE_TTL_MS };
  return { key: h.update(`ev:${raw}`).digest('base64url'), ttlMs: EVENT_GATE_TTL_MS };
}

/** A queue entry: the base channel (handler pattern), the sender's channel (replies go to `<c>.reply`), the packet. */
export interface WorkEntry {
  id: string;
  channel: string;
  replyTo: string;
  packet: ScreenedPacket;
}

/** Field list of XADD for a screened message (the packet is stored as received, already screened). */
export function entryFields(channel: string, replyTo: string, raw: string): string[] {
  return ['b', channel, 'c', replyTo, 'p', raw];
}

/**
 * Reads an entry of XREADGROUP / XAUTOCLAIM (`[id, [field, value, …]]`). Entries are written only by
 * replicas, after the screen, but a stream is a key anyone with access can write: a malformed one is
 * returned as null, to be acknowledged and dropped.
 */
export function parseEntry(raw: unknown): WorkEntry | { id: string; malformed: string } | null {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') return null;
  const [id, fields] = raw as [string, unknown];
  if (!Array.isArray(fields)) return { id, malformed: 'no fields (trimmed before it was read)' };
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(String(fields[i]), String(fields[i + 1]));
  const channel = map.get('b');
  const replyTo = map.get('c');
  const body = map.get('p');
  if (!channel || !replyTo || body === undefined) return { id, malformed: 'missing b, c or p' };
  try {
    const packet = JSON.parse(body) as ScreenedPacket;
    if (typeof packet !== 'object' || packet === null || typeof packet.pattern !== 'string')
      return { id, malformed: 'not a packet' };
    return { id, channel, replyTo, packet };
  } catch {
    return { id, malformed: 'not JSON' };
  }
}

/**
 * The gate: one round trip, atomic. KEYS[1] the gate key, KEYS[2] the stream; ARGV[1] gate TTL (ms),
 * ARGV[2] the oldest entry id to keep (MINID trimming: entries older than the queue's horizon are of no
 * use to anyone, their requesters have timed out), then the entry's fields. Returns the entry id, or
 * false when another replica offered the message first.
 */
export const GATE_SCRIPT = `
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], 'MINID', '~', ARGV[2], '*', unpack(ARGV, 3))
end
return false
`;

/** Entries older than this are trimmed from the stream (a requester's timeout is a few seconds). */
export const QUEUE_HORIZON_MS = 30_000;
