import { Injectable } from '@nestjs/common';
import { NETWORK_MAX_STREAMS, NetworkEdge, NetworkSnapshot } from '@astral/contracts';
import { NodesService } from '../nodes/nodes.service';
import { StreamsService } from '../streams/streams.service';

/**
 * Where the network view's snapshots come from: the directory's NetworkSnapshot of nodes, streams and edges
 * (GET /api/network). Bound in NetworkModule; the socket depends only on this.
 */
export abstract class NetworkSnapshotSource {
  abstract snapshot(): Promise<NetworkSnapshot>;
}

/**
 * Interim source until the directory's NetworkSnapshot builder lands (issue 14, placement): registered nodes,
 * live streams (one page of 100), membership edges from the nodes' reported supernode and forward edges from
 * the carriers' reported upstream.
 */
@Injectable()
export class ListedNetworkSource extends NetworkSnapshotSource {
  constructor(
    private readonly nodes: NodesService,
    private readonly streams: StreamsService,
  ) {
    super();
  }

  async snapshot(): Promise<NetworkSnapshot> {
    const [nodes, streams] = await Promise.all([
      this.nodes.list(),
      this.streams.list({ status: 'live', pageSize: Math.min(100, NETWORK_MAX_STREAMS) }),
    ]);
    const edges: NetworkEdge[] = nodes
      .filter((n) => n.supernodeId !== null)
      .map((n) => ({ kind: 'membership', from: n.nodeId, to: n.supernodeId!, streamId: null }));
    for (const s of streams.items) {
      for (const { carrier } of await this.streams.carrierNodes({ streamId: s.streamId })) {
        if (carrier.upstreamNodeId) {
          edges.push({
            kind: 'forward',
            from: carrier.upstreamNodeId,
            to: carrier.nodeId,
            streamId: s.streamId,
          });
        }
      }
    }
    return {
      at: new Date().toISOString(),
      nodes: nodes.map((n) => ({
        nodeId: n.nodeId,
        supernode: n.supernode,
        supernodeId: n.supernodeId,
        uploadBps: n.uploadBps,
        uploadLimitBps: n.uploadLimitBps,
        players: n.players,
        host: n.host,
      })),
      streams: streams.items.map((s) => ({
        streamId: s.streamId,
        title: s.title,
        sourceNodeId: s.sourceNodeId,
        viewers: s.viewers,
      })),
      edges,
      truncated: streams.total > streams.items.length,
    };
  }
}
