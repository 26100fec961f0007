/** A live ticket the agent admitted: its downstream may pull this stream with the ticket's signed token. */
export interface Admission {
  ticketId: string;
  streamId: string;
  downstreamNodeId: string;
}

interface OpenForward<C> {
  streamId: string;
  conn: C;
}

/**
 * The relay's one forward registry: the admissions (the live tickets, by ticket id) and the open
 * forwards (by ticket, and on their stream, so a stream's stats and its end touch only its own
 * forwards). Pure bookkeeping: opening and closing connections is the caller's.
 *
 * An admission ends with its ticket (revoked by the agent, or its forward closed by the relay): a token
 * of an ended ticket is refused even before it expires. Memory is bounded by the agent's live tickets.
 */
export class ForwardRegistry<C> {
  private readonly admissions = new Map<string, Admission>();
  private readonly open = new Map<string, OpenForward<C>>();
  /** The open forwards of each stream, by ticket, in the order they opened. */
  private readonly onStream = new Map<string, Map<string, C>>();

  admit(admission: Admission): void {
    this.admissions.set(admission.ticketId, { ...admission });
  }

  admission(ticketId: string): Admission | undefined {
    return this.admissions.get(ticketId);
  }

  /** Ends the ticket's admission (an open forward stays registered: closing it is the caller's). */
  revoke(ticketId: string): void {
    this.admissions.delete(ticketId);
  }

  get admitted(): number {
    return this.admissions.size;
  }

  /** Registers the open forward of a ticket, replacing the one it had. */
  add(ticketId: string, streamId: string, conn: C): void {
    this.remove(ticketId);
    this.open.set(ticketId, { streamId, conn });
    let forwards = this.onStream.get(streamId);
    if (!forwards) {
      forwards = new Map();
      this.onStream.set(streamId, forwards);
    }
    forwards.set(ticketId, conn);
  }

  /** Unregisters the ticket's forward; with `conn`, only if that is still the ticket's forward. */
  remove(ticketId: string, conn?: C): boolean {
    const entry = this.open.get(ticketId);
    if (!entry || (conn !== undefined && entry.conn !== conn)) return false;
    this.open.delete(ticketId);
    const forwards = this.onStream.get(entry.streamId);
    forwards?.delete(ticketId);
    if (forwards?.size === 0) this.onStream.delete(entry.streamId);
    return true;
  }

  get(ticketId: string): { streamId: string; conn: C } | undefined {
    return this.open.get(ticketId);
  }

  /** The open forwards of one stream, oldest first (a copy: closing them while iterating is safe). */
  forwardsOf(streamId: string): C[] {
    return [...(this.onStream.get(streamId)?.values() ?? [])];
  }

  ticketsOf(streamId: string): string[] {
    return [...(this.onStream.get(streamId)?.keys() ?? [])];
  }

  countOf(streamId: string): number {
    return this.onStream.get(streamId)?.size ?? 0;
  }

  /** Every open forward, oldest first (a copy). */
  all(): C[] {
    return [...this.open.values()].map((f) => f.conn);
  }

  tickets(): string[] {
    return [...this.open.keys()];
  }

  get size(): number {
    return this.open.size;
  }
}
