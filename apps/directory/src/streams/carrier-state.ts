import type { StreamInfo } from '@astral/contracts';

/**
 * What the directory knows about one carrier of one stream: its carrier row (the node's carrying report and its
 * heartbeats' per-stream figures) and its node's figures. Pure data; placement and StreamInfo derive from it.
 */
export interface CarrierState {
  streamId: string;
  nodeId: string;
  hops: number;
  upstreamNodeId: string | null;
  /** Players of the stream there that cost upload, and those over loopback. */
  players: number;
  localPlayers: number;
  forwards: number;
  /** The stream's bit rate as the carrier measures it; null until reported. */
  bitrateBps: number | null;
  width: number | null;
  height: number | null;
  /** Epoch ms of the last heartbeat that reported this stream; null before. */
  reportedAt: number | null;
  /** The node: its limit (null is unlimited), its commitment (null until reported), its forwards over all streams. */
  uploadLimitBps: number | null;
  committedBps: number | null;
  nodeForwards: number;
  /** Epoch ms of the node's last heartbeat or registration, and of its last heartbeat. */
  lastSeenAt: number;
  lastReportAt: number | null;
  host: string;
  rtmpPort: number;
  httpPort: number;
}

/** While nobody has measured a stream's bit rate, room is judged as if it were this (1 Mbit/s). */
export const ASSUMED_BITRATE_BPS = 1_000_000;

/** A placement this recent that found no carrier with room but the source (or none) means the stream needs capacity. */
export const STARVED_WINDOW_MS = 30_000;

/** The stream's bit rate: the one its source announced, else the one the source's heartbeat measured; null if neither. */
export function streamBitrate(
  stream: { bitrateBps: number | null; sourceNodeId: string },
  carriers: readonly CarrierState[],
): number | null {
  if (stream.bitrateBps !== null && stream.bitrateBps > 0) return stream.bitrateBps;
  const source = carriers.find((c) => c.nodeId === stream.sourceNodeId);
  return source?.bitrateBps ? source.bitrateBps : null;
}

/** Whether the node was heard from (heartbeat or registration) within the expiry window. */
export function isAlive(c: CarrierState, now: number, expiryMs: number): boolean {
  return c.lastSeenAt >= now - expiryMs;
}

/**
 * Upload the node has promised: what it reported, else (a node that reports no commitment) one stream's bit rate
 * per forward it reported.
 */
export function committedOf(c: CarrierState, bitrateBps: number): number {
  return c.committedBps ?? c.nodeForwards * bitrateBps;
}

/** Upload the node has free, floored at 0; Infinity for an unlimited node. */
export function freeOf(c: CarrierState, bitrateBps: number, pendingBps = 0): number {
  if (c.uploadLimitBps === null) return Infinity;
  return Math.max(0, c.uploadLimitBps - committedOf(c, bitrateBps) - pendingBps);
}

export type StreamStats = Pick<
  StreamInfo,
  'viewers' | 'carriers' | 'width' | 'height' | 'bitrateBps' | 'freeCapacityBps' | 'needsCapacity'
>;

/**
 * What a stream's StreamInfo says about its carriers. Counts live nodes only; players only from reports within the
 * expiry window. needsCapacity: a live stream whose carriers have room for fewer than 2 more viewers at its bit
 * rate, or that starved (a placement found only the source, or nobody) within STARVED_WINDOW_MS.
 */
export function deriveStreamStats(
  stream: { status: string; bitrateBps: number | null; sourceNodeId: string; starvedAt: number | null },
  all: readonly CarrierState[],
  now: number,
  expiryMs: number,
): StreamStats {
  const carriers = all.filter((c) => isAlive(c, now, expiryMs));
  const fresh = (c: CarrierState): boolean => c.reportedAt !== null && c.reportedAt >= now - expiryMs;
  const bitrate = streamBitrate(stream, carriers);
  const rate = bitrate ?? ASSUMED_BITRATE_BPS;
  const source = carriers.find((c) => c.nodeId === stream.sourceNodeId && fresh(c));
  let free = 0;
  let slots = 0;
  for (const c of carriers) {
    const f = freeOf(c, rate);
    free += f;
    slots += Math.floor(f / rate);
  }
  const starved = stream.starvedAt !== null && stream.starvedAt > now - STARVED_WINDOW_MS;
  return {
    viewers: carriers.filter(fresh).reduce((n, c) => n + c.players + c.localPlayers, 0),
    carriers: carriers.length,
    width: source?.width ?? null,
    height: source?.height ?? null,
    bitrateBps: bitrate,
    freeCapacityBps: Number.isFinite(free) ? free : null,
    needsCapacity: stream.status === 'live' && (slots < 2 || starved),
  };
}
