import { randomUUID } from 'node:crypto';

/**
 * The simulated nodes, and what each sends (docs/SIMULATION.md: ~4.5 control messages per node and
 * second, a request and its reply counting one each): a ticket heartbeat to its upstream and a
 * membership heartbeat to its supernode (requests, answered), a NodeHeartbeat to the directory, and
 * its relay's stats report to its own agent (an event, as RelayStatsReporter sends it).
 */
export interface Topology {
  ids: string[];
  /** The node whose ticket node i holds (its upstream): another node. */
  upstream: number[];
  /** Node i's supernode: the first node of each block of SUPERNODE_MEMBERS. */
  supernode: number[];
  /** Node i's ticket, fixed for the run as a live ticket is. */
  ticketIds: string[];
}

/** Members per supernode (the simulation's supernodes hold 173–185 on average; 100 here). */
export const SUPERNODE_MEMBERS = 100;
export const STREAM_ID = 'bench-bus-stream';

export function topology(nodes: number): Topology {
  const ids = Array.from({ length: nodes }, () => randomUUID());
  // A fixed pseudo-random upstream per node (never itself), so the run is the same every time.
  const upstream = ids.map((_, i) => (nodes < 2 ? i : (i + 1 + ((i * 7919) % (nodes - 1))) % nodes));
  const supernode = ids.map((_, i) => {
    const head = i - (i % SUPERNODE_MEMBERS);
    return head === i && nodes > 1 ? (i + SUPERNODE_MEMBERS) % nodes : head;
  });
  return { ids, upstream, supernode, ticketIds: ids.map(() => randomUUID()) };
}

export type RequestKind = 'ticket' | 'membership';

/** One side of the comparison: a way of carrying the same messages between the same processes. */
export interface Fleet {
  /** Opens every process's connections and subscriptions; resolves once Redis holds them all. */
  connect(progress: (msg: string) => void): Promise<void>;
  /** Node i's agent asks its upstream (ticket) or its supernode (membership); resolves on the reply. */
  request(i: number, kind: RequestKind): Promise<void>;
  /** Node i's agent tells the directory it is alive. */
  heartbeat(i: number): Promise<void>;
  /** Node i's relay reports its stats to node i's agent. */
  relayStats(i: number): Promise<void>;
  close(): Promise<void>;
  /** What this fleet measures, for the result's notes. */
  readonly notes: string[];
}

/** A relay stats report of one stream with one forward and one player, as RelayStatsReporter sends it. */
export function relayStatsPayload(nodeId: string, sentAt: number): Record<string, unknown> {
  return {
    nodeId,
    sentAt,
    stats: {
      nodeId,
      uptimeS: 600,
      egressBps: 2_000_000,
      playerEgressBps: 1_000_000,
      grantedBps: 3_000_000,
      players: 1,
      streams: [
        {
          streamId: STREAM_ID,
          live: true,
          upstreamNodeId: nodeId,
          bitrateBps: 1_000_000,
          width: 640,
          height: 360,
          players: 1,
          forwards: [{ ticketId: nodeId, bytes: 75_000_000, droppedTags: 0, queuedBytes: 0 }],
        },
      ],
    },
  };
}

/** Runs `work` over 0..n-1, `width` at a time. */
export async function inBatches(n: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await work(next++);
    }),
  );
}
