import type { Integer, IsoDateTime, Uuid } from './common';

/**
 * The network as the directory knows it, for the live network view (GET /api/network): nodes, live streams, and
 * edges of two kinds: `membership` (a node to its supernode) and `forward` (a stream's upstream node to the node
 * it forwards to). Reply shapes, built as plain objects (classes so that OpenAPI documents them).
 */

/** At most this many nodes in one snapshot (supernodes first, then carriers, then the rest); `truncated` says so. */
export const NETWORK_MAX_NODES = 2000;
/** At most this many live streams in one snapshot (most viewers first). */
export const NETWORK_MAX_STREAMS = 500;
/** At most this many edges in one snapshot. */
export const NETWORK_MAX_EDGES = 10_000;

export class NetworkNode {
  nodeId!: Uuid;
  supernode!: boolean;
  /** The supernode it is a member of, from its heartbeat; null for none or unknown. */
  supernodeId!: Uuid | null;
  /** What it uploads now (its heartbeat); null until reported. */
  uploadBps!: Integer | null;
  /** Null is unlimited. */
  uploadLimitBps!: Integer | null;
  players!: Integer;
  host!: string;
}

export class NetworkStream {
  streamId!: string;
  title!: string;
  sourceNodeId!: Uuid;
  viewers!: Integer;
}

export type NetworkEdgeKind = 'membership' | 'forward';

export class NetworkEdge {
  kind!: NetworkEdgeKind;
  /** membership: the member; forward: the upstream node. */
  from!: Uuid;
  /** membership: its supernode; forward: the node it forwards to. */
  to!: Uuid;
  /** For a forward edge: the stream it carries; null for membership. */
  streamId!: string | null;
}

export class NetworkSnapshot {
  at!: IsoDateTime;
  nodes!: NetworkNode[];
  streams!: NetworkStream[];
  edges!: NetworkEdge[];
  /** Whether a bound (NETWORK_MAX_NODES, _STREAMS, _EDGES) left something out. */
  truncated!: boolean;
}
