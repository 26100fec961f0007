import { Injectable } from '@nestjs/common';
import { NodesService } from '../nodes/nodes.service';
import { StreamsService } from '../streams/streams.service';

/**
 * Where the network view's snapshots come from: the directory's NetworkSnapshot of nodes, streams and edges
 * (GET /api/network). Bound in NetworkModule; the socket depends only on this.
 */
export abstract class NetworkSnapshotSource {
  abstract snapshot(): Promise<unknown>;
}

/**
 * Interim source until the directory's NetworkSnapshot builder lands (issue 14, placement): registered nodes and
 * the first page of live streams, without edges (the directory does not yet keep heartbeats' supernode and
 * upstream ids).
 */
@Injectable()
export class ListedNetworkSource extends NetworkSnapshotSource {
  constructor(
    private readonly nodes: NodesService,
    private readonly streams: StreamsService,
  ) {
    super();
  }

  async snapshot(): Promise<unknown> {
    const [nodes, streams] = await Promise.all([
      this.nodes.list(),
      this.streams.list({ status: 'live', pageSize: 100 }),
    ]);
    return {
      at: new Date().toISOString(),
      nodes: nodes.map((n) => ({
        nodeId: n.nodeId,
        supernode: n.supernode,
        supernodeId: null,
        uploadBps: null,
        uploadLimitBps: n.uploadLimitBps,
        players: 0,
        host: n.host,
      })),
      streams: streams.items.map((s) => ({
        streamId: s.streamId,
        title: s.title,
        sourceNodeId: s.sourceNodeId,
        viewers: 0,
      })),
      edges: [],
      truncated: streams.total > streams.items.length,
    };
  }
}
