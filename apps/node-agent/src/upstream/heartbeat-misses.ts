/** Missed heartbeats in a row after which an upstream counts as lost. */
export const HEARTBEAT_MISS_LIMIT = 3;

/**
 * Missed upstream heartbeats per ticket, in a row: an answer resets the count, and the miss that
 * reaches HEARTBEAT_MISS_LIMIT (and every one after it) says the upstream is lost.
 */
export class HeartbeatMisses {
  private readonly misses = new Map<string, number>();

  /** The upstream answered the heartbeat for this ticket. */
  answered(ticketId: string): void {
    this.misses.delete(ticketId);
  }

  /** The heartbeat for this ticket went unanswered; true when the upstream now counts as lost. */
  missed(ticketId: string): boolean {
    const misses = (this.misses.get(ticketId) ?? 0) + 1;
    this.misses.set(ticketId, misses);
    return misses >= HEARTBEAT_MISS_LIMIT;
  }

  /** Forgets the tickets this node no longer holds, so a node that changes upstreams for days keeps no stale counts. */
  keepOnly(held: ReadonlySet<string>): void {
    for (const ticketId of this.misses.keys()) if (!held.has(ticketId)) this.misses.delete(ticketId);
  }

  /** Tickets with at least one miss counted. */
  get size(): number {
    return this.misses.size;
  }

  count(ticketId: string): number {
    return this.misses.get(ticketId) ?? 0;
  }
}
