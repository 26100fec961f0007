import {
  CarriedStream,
  HeartbeatBody,
  HeartbeatStream,
  MAX_HEARTBEAT_STREAMS,
  RelayStats,
} from '@astral/contracts';

export type HeartbeatLoad = Pick<HeartbeatBody, 'uploadBps' | 'committedBps' | 'players' | 'streams'>;

const clampInt = (n: number | null | undefined, max: number): number =>
  Math.max(0, Math.min(max, Math.round(Number.isFinite(n) ? (n as number) : 0)));

const size = (n: number | null | undefined): number | undefined =>
  typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 16384 ? n : undefined;

/**
 * What the heartbeat says of the node's load (issue 14, "what the directory knows"): upload now (the relay's
 * egress, forwards and remote players), upload promised (forward tickets + admitted remote players), players,
 * and per carried stream its place in the tree and its audience, most players first, at most
 * MAX_HEARTBEAT_STREAMS. Without relay stats yet, the streams are reported with zeros.
 */
export function heartbeatLoad(
  stats: RelayStats | null,
  carried: CarriedStream[],
  forwardCommittedBps: number,
): HeartbeatLoad {
  const streams: HeartbeatStream[] = carried.map((c) => {
    const s = stats?.streams.find((x) => x.streamId === c.streamId);
    const hb: HeartbeatStream = {
      streamId: c.streamId,
      hops: clampInt(c.hops, 1000),
      players: clampInt(s?.players, 1_000_000),
      localPlayers: clampInt(s?.localPlayers, 1_000_000),
      forwards: clampInt(s?.forwards.length, 1_000_000),
      bitrateBps: clampInt(s?.bitrateBps, 10_000_000_000),
    };
    if (c.upstreamNodeId) hb.upstreamNodeId = c.upstreamNodeId;
    const width = size(s?.width);
    const height = size(s?.height);
    if (width !== undefined && height !== undefined) Object.assign(hb, { width, height });
    return hb;
  });
  streams.sort((a, b) => b.players + b.localPlayers - (a.players + a.localPlayers));
  const players = streams.reduce((n, s) => n + s.players, 0);
  return {
    uploadBps: clampInt(stats?.egressBps, 1e12),
    committedBps: clampInt(forwardCommittedBps + (stats?.playerCommittedBps ?? 0), 1e12),
    players: clampInt(players, 1_000_000),
    streams: streams.slice(0, MAX_HEARTBEAT_STREAMS),
  };
}
