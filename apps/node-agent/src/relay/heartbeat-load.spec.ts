import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  CarriedStream,
  MAX_HEARTBEAT_STREAMS,
  NodeHeartbeat,
  RelayStats,
  RelayStreamStats,
} from '@astral/contracts';
import { heartbeatLoad } from './heartbeat-load';

const UP = '22222222-2222-4222-8222-222222222222';
const carried = (streamId: string, hops = 1): CarriedStream => ({
  streamId,
  origin: 'upstream',
  path: [],
  hops,
  upstreamNodeId: UP,
  ticketId: null,
  since: 0,
  seed: false,
});
const relayStream = (
  streamId: string,
  players: number,
  over: Partial<RelayStreamStats> = {},
): RelayStreamStats => ({
  streamId,
  origin: 'upstream',
  upstreamNodeId: UP,
  bitrateBps: 1_000_000,
  peakBitrateBps: 1_200_000,
  fps: 30,
  keyframeIntervalMs: 2000,
  viewers: players + 1,
  players,
  localPlayers: 1,
  placedPlayers: 0,
  width: 640,
  height: 360,
  forwards: [],
  tagsIn: 10,
  lastTagAt: 0,
  ...over,
});
const stats = (streams: RelayStreamStats[]): RelayStats => ({
  nodeId: UP,
  uploadLimitBps: 5_000_000,
  egressBps: 2_100_000,
  playerBps: 1_000_000,
  forwardCommittedBps: 1_000_000,
  playerCommittedBps: 3_000_000,
  playersRefused: 0,
  streams,
});

describe(heartbeatLoad.name, () => {
  it('reports upload now, upload promised (forwards + players) and players, streams most players first', () => {
    const sut = heartbeatLoad(
      stats([relayStream('a', 1), relayStream('b', 2)]),
      [carried('a'), carried('b', 2)],
      1_000_000,
    );
    expect(sut).toMatchObject({ uploadBps: 2_100_000, committedBps: 4_000_000, players: 3 });
    expect(sut.streams?.map((s) => s.streamId)).toEqual(['b', 'a']);
    expect(sut.streams?.[0]).toEqual({
      streamId: 'b',
      hops: 2,
      upstreamNodeId: UP,
      players: 2,
      localPlayers: 1,
      forwards: 0,
      bitrateBps: 1_000_000,
      width: 640,
      height: 360,
    });
  });

  it('reports carried streams with zeros before the relay has stats, and no size until known', () => {
    const sut = heartbeatLoad(null, [{ ...carried('a', 0), upstreamNodeId: null }], 0);
    expect(sut).toEqual({
      uploadBps: 0,
      committedBps: 0,
      players: 0,
      streams: [{ streamId: 'a', hops: 0, players: 0, localPlayers: 0, forwards: 0, bitrateBps: 0 }],
    });
  });

  it('keeps at most MAX_HEARTBEAT_STREAMS, those with most players', () => {
    const ids = Array.from({ length: MAX_HEARTBEAT_STREAMS + 5 }, (_, i) => `s${i}`);
    const sut = heartbeatLoad(
      stats(ids.map((id, i) => relayStream(id, i))),
      ids.map((id) => carried(id)),
      0,
    );
    expect(sut.streams).toHaveLength(MAX_HEARTBEAT_STREAMS);
    expect(sut.streams?.some((s) => s.streamId === 's0')).toBe(false);
  });
});

describe('heartbeatLoad and the directory', () => {
  it('is a heartbeat the directory accepts (NodeHeartbeat, validated as the directory does)', () => {
    const body = {
      nodeId: UP,
      forwards: 1,
      supernodeId: UP,
      ...heartbeatLoad(
        stats([relayStream('show-a', 1), relayStream('show-b', 0, { width: null, height: null })]),
        [carried('show-a'), carried('show-b')],
        1,
      ),
    };
    const errors = validateSync(plainToInstance(NodeHeartbeat, JSON.parse(JSON.stringify(body)) as object), {
      whitelist: true,
      forbidNonWhitelisted: true,
    });
    expect(errors).toEqual([]);
  });
});
