/** What a joining node knows of a supernode candidate. */
export interface SupernodeCandidate {
  nodeId: string;
  /** Round-trip time measured on the data path; null if it did not answer. */
  rttMs: number | null;
  childCount: number;
  maxChildren: number | null;
}

/**
 * The order in which a node tries supernodes: reachable ones with spare capacity first, closest first;
 * then full ones (they may have freed a slot), closest first. Unreachable and excluded ones are dropped.
 */
export function orderSupernodeCandidates(
  selfId: string,
  candidates: SupernodeCandidate[],
  exclude: ReadonlySet<string> = new Set(),
): SupernodeCandidate[] {
  const seen = new Set<string>();
  const usable = candidates.filter((c) => {
    if (c.nodeId === selfId || exclude.has(c.nodeId) || c.rttMs === null || seen.has(c.nodeId)) return false;
    seen.add(c.nodeId);
    return true;
  });
  const spare = (c: SupernodeCandidate) => c.maxChildren === null || c.childCount < c.maxChildren;
  return usable.sort((a, b) => Number(spare(b)) - Number(spare(a)) || (a.rttMs ?? 0) - (b.rttMs ?? 0));
}

export interface MemberCarrying {
  streamId: string;
  hops: number;
}

/** A member that carries a stream, as its supernode lists it. */
export interface MemberCarrier {
  nodeId: string;
  hops: number;
  host: string;
  forwardPort: number;
  apiPort?: number;
}

interface Member {
  nodeId: string;
  host: string;
  forwardPort: number;
  /** The member's agent API port (it says so when it joins); carried into carrier lists. */
  apiPort?: number;
  lastSeen: number;
  carrying: MemberCarrying[];
}

/**
 * A supernode's view of its members: capped, expired after `missLimit` heartbeat intervals without a
 * heartbeat, and the index of which member carries which stream (the first place a viewer asks).
 */
export class SupernodeMembers {
  private readonly members = new Map<string, Member>();

  constructor(
    private maxChildren: number,
    private readonly heartbeatMs: number,
    private readonly missLimit = 3,
  ) {}

  setMaxChildren(max: number): void {
    this.maxChildren = max;
  }

  get size(): number {
    return this.members.size;
  }

  get capacity(): number {
    return this.maxChildren;
  }

  /** Accepts a member if there is room (a member that re-joins keeps its place). */
  join(nodeId: string, host: string, forwardPort: number, now: number, apiPort?: number): boolean {
    const existing = this.members.get(nodeId);
    if (!existing && this.members.size >= this.maxChildren) return false;
    this.members.set(nodeId, {
      nodeId,
      host,
      forwardPort,
      ...(apiPort !== undefined && { apiPort }),
      lastSeen: now,
      carrying: existing?.carrying ?? [],
    });
    return true;
  }

  /** Records a heartbeat; false if the node is not a member (it should join again). */
  heartbeat(nodeId: string, carrying: MemberCarrying[], now: number): boolean {
    const m = this.members.get(nodeId);
    if (!m) return false;
    m.lastSeen = now;
    m.carrying = carrying;
    return true;
  }

  leave(nodeId: string): boolean {
    return this.members.delete(nodeId);
  }

  /** Drops members that missed `missLimit` heartbeats; returns their ids. */
  expire(now: number): string[] {
    const dead: string[] = [];
    for (const m of this.members.values()) {
      if (now - m.lastSeen > this.heartbeatMs * this.missLimit) dead.push(m.nodeId);
    }
    for (const id of dead) this.members.delete(id);
    return dead;
  }

  /** Members carrying a stream, nearest the source first (with their API port when they gave it). */
  carriers(streamId: string): MemberCarrier[] {
    const out: MemberCarrier[] = [];
    for (const m of this.members.values()) {
      const c = m.carrying.find((x) => x.streamId === streamId);
      if (c) {
        const entry: MemberCarrier = {
          nodeId: m.nodeId,
          hops: c.hops,
          host: m.host,
          forwardPort: m.forwardPort,
        };
        if (m.apiPort !== undefined) entry.apiPort = m.apiPort;
        out.push(entry);
      }
    }
    return out.sort((a, b) => a.hops - b.hops);
  }

  /** Counts every member as heard from now (used while heartbeats could not cross, e.g. Redis was away). */
  touchAll(now: number): void {
    for (const m of this.members.values()) m.lastSeen = now;
  }

  ids(): string[] {
    return [...this.members.keys()];
  }
}
