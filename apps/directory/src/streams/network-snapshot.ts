import {
  NETWORK_MAX_EDGES,
  NETWORK_MAX_NODES,
  NETWORK_MAX_STREAMS,
  NetworkEdge,
  NetworkNode,
  NetworkSnapshot,
  NetworkStream,
} from '@astral/contracts';

export interface NetworkLimits {
  maxNodes: number;
  maxStreams: number;
  maxEdges: number;
}

export const NETWORK_LIMITS: NetworkLimits = {
  maxNodes: NETWORK_MAX_NODES,
  maxStreams: NETWORK_MAX_STREAMS,
  maxEdges: NETWORK_MAX_EDGES,
};

/** One carrier row as the snapshot needs it: who carries which stream, and from whom. */
export interface ForwardLink {
  streamId: string;
  nodeId: string;
  upstreamNodeId: string | null;
}

/**
 * The network view's snapshot (pure), bounded: the most-watched live streams first (at most maxStreams); nodes
 * with supernodes first, then the nodes that carry a listed stream, then the rest, each in the order given (at most
 * maxNodes); edges only between listed nodes (membership: a node to its supernode; forward: upstream to
 * downstream per listed stream), at most maxEdges. `truncated` says whether a bound left something out.
 */
export function buildNetworkSnapshot(
  input: { nodes: readonly NetworkNode[]; streams: readonly NetworkStream[]; links: readonly ForwardLink[] },
  at: number,
  limits: NetworkLimits = NETWORK_LIMITS,
): NetworkSnapshot {
  const streams = [...input.streams]
    .sort((a, b) => b.viewers - a.viewers || a.streamId.localeCompare(b.streamId))
    .slice(0, limits.maxStreams);
  const listedStreams = new Set(streams.map((s) => s.streamId));
  const links = input.links.filter((l) => listedStreams.has(l.streamId));
  const carriers = new Set(links.map((l) => l.nodeId));
  const rank = (n: NetworkNode): number => (n.supernode ? 0 : carriers.has(n.nodeId) ? 1 : 2);
  const nodes = input.nodes
    .map((n, i) => ({ n, i }))
    .sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i)
    .slice(0, limits.maxNodes)
    .map(({ n }) => n);
  const listed = new Set(nodes.map((n) => n.nodeId));
  const edges: NetworkEdge[] = [];
  for (const n of nodes)
    if (n.supernodeId && n.supernodeId !== n.nodeId && listed.has(n.supernodeId))
      edges.push({ kind: 'membership', from: n.nodeId, to: n.supernodeId, streamId: null });
  for (const l of links)
    if (l.upstreamNodeId && listed.has(l.upstreamNodeId) && listed.has(l.nodeId))
      edges.push({ kind: 'forward', from: l.upstreamNodeId, to: l.nodeId, streamId: l.streamId });
  const truncated =
    streams.length < input.streams.length ||
    nodes.length < input.nodes.length ||
    edges.length > limits.maxEdges;
  return {
    at: new Date(at).toISOString(),
    nodes,
    streams,
    edges: edges.slice(0, limits.maxEdges),
    truncated,
  };
}
