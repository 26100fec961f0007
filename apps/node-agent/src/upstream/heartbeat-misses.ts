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
    this.misses.set(ticketId, 0);
  }

  /** The heartbeat for this ticket went unanswered; true when the upstream now counts as lost. */
  missed(ticketId: string): boolean {
    const misses = (this.misses.get(ticketId) ?? 0) + 1;
    this.misses.set(ticketId, misses);
    return misses >= HEARTBEAT_MISS_LIMIT;
  }

  count(ticketId: string): number {
    return this.misses.get(ticketId) ?? 0;
  }
}
