import { NetworkNode } from '@astral/contracts';
import { buildNetworkSnapshot } from './network-snapshot';

const node = (nodeId: string, over: Partial<NetworkNode> = {}): NetworkNode => ({
  nodeId,
  supernode: false,
  supernodeId: null,
  uploadBps: 0,
  uploadLimitBps: null,
  players: 0,
  host: '10.0.0.1',
  ...over,
});

describe(buildNetworkSnapshot.name, () => {
  const limits = { maxNodes: 3, maxStreams: 1, maxEdges: 10 };

  it('draws membership and forward edges between listed nodes', () => {
    const snap = buildNetworkSnapshot(
      {
        nodes: [
          node('s', { supernode: true }),
          node('a', { supernodeId: 's' }),
          node('b', { supernodeId: 'gone' }),
        ],
        streams: [{ streamId: 'x', title: 'X', sourceNodeId: 's', viewers: 3 }],
        links: [
          { streamId: 'x', nodeId: 's', upstreamNodeId: null },
          { streamId: 'x', nodeId: 'a', upstreamNodeId: 's' },
          { streamId: 'x', nodeId: 'b', upstreamNodeId: 'a' },
        ],
      },
      0,
      limits,
    );
    expect(snap.truncated).toBe(false);
    expect(snap.edges).toEqual([
      { kind: 'membership', from: 'a', to: 's', streamId: null },
      { kind: 'forward', from: 's', to: 'a', streamId: 'x' },
      { kind: 'forward', from: 'a', to: 'b', streamId: 'x' },
    ]);
  });

  it('keeps supernodes and carriers of the most-watched streams within the bounds, and says it truncated', () => {
    const snap = buildNetworkSnapshot(
      {
        nodes: [
          node('idle1'),
          node('idle2'),
          node('carrier'),
          node('super', { supernode: true }),
          node('other'),
        ],
        streams: [
          { streamId: 'quiet', title: 'Q', sourceNodeId: 'other', viewers: 1 },
          { streamId: 'busy', title: 'B', sourceNodeId: 'carrier', viewers: 9 },
        ],
        links: [
          { streamId: 'busy', nodeId: 'carrier', upstreamNodeId: null },
          { streamId: 'quiet', nodeId: 'other', upstreamNodeId: null },
        ],
      },
      0,
      limits,
    );
    expect(snap.truncated).toBe(true);
    expect(snap.streams.map((s) => s.streamId)).toEqual(['busy']);
    expect(snap.nodes.map((n) => n.nodeId)).toEqual(['super', 'carrier', 'idle1']);
  });

  it('caps the edges', () => {
    const nodes = Array.from({ length: 30 }, (_, i) => node(`n${i}`, { supernodeId: 'n0' }));
    const snap = buildNetworkSnapshot({ nodes, streams: [], links: [] }, 0, { ...limits, maxNodes: 30 });
    expect(snap.edges).toHaveLength(10);
    expect(snap.truncated).toBe(true);
  });
});
