/**
 * A simulated node's directory heartbeat, as the agent's DirectoryLink builds it (heartbeatLoad): its
 * forwards, its supernode role and members, upload committed, and the stream it carries with its hops.
 */
import type { NodeHeartbeat } from '@astral/contracts';
import type { SimNode } from './sim-node';

export function heartbeatOf(node: SimNode): NodeHeartbeat {
  const carried = node.carried();
  const view = node.membershipMachine.view;
  const forwards = node.ticketServer.confirmedCount();
  const hb: NodeHeartbeat = {
    nodeId: node.id,
    forwards,
    ...(view.role === 'supernode' && { childCount: view.members.length }),
    ...(view.supernodeId && { supernodeId: view.supernodeId }),
    uploadBps: forwards * node.world.bitrateBps,
    committedBps: node.committedBps(),
    players: 0,
    streams: carried
      ? [
          {
            streamId: node.world.streamId,
            hops: carried.hops,
            ...(carried.upstreamNodeId && { upstreamNodeId: carried.upstreamNodeId }),
            players: 0,
            localPlayers: 1,
            forwards,
            bitrateBps: node.world.bitrateBps,
          },
        ]
      : [],
  };
  return hb;
}
