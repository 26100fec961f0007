import { randomUUID } from 'node:crypto';
import { HeartbeatStream } from '@astral/contracts';
import { screenStreamReports } from './heartbeat-reports';

const report = (streamId: string, over: Partial<HeartbeatStream> = {}): HeartbeatStream => ({
  streamId,
  hops: 1,
  players: 1,
  localPlayers: 0,
  forwards: 0,
  bitrateBps: 1_000_000,
  ...over,
});

describe(screenStreamReports.name, () => {
  const nodeId = randomUUID();

  it('keeps distinct reports naming another node as upstream (the legit twin)', () => {
    const streams = [report('a-123456', { upstreamNodeId: randomUUID() }), report('b-123456')];
    expect(screenStreamReports({ nodeId, streams })).toEqual({ accepted: streams, ignored: [] });
    expect(screenStreamReports({ nodeId })).toEqual({ accepted: [], ignored: [] });
  });

  it('ignores a repeated stream id (the first counts) and a report naming the node as its own upstream', () => {
    const first = report('a-123456', { players: 1 });
    const r = screenStreamReports({
      nodeId,
      streams: [first, report('a-123456', { players: 99 }), report('b-123456', { upstreamNodeId: nodeId })],
    });
    expect(r.accepted).toEqual([first]);
    expect(r.ignored).toEqual([
      { streamId: 'a-123456', reason: 'duplicate' },
      { streamId: 'b-123456', reason: 'own-upstream' },
    ]);
  });
});
