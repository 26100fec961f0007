import { Injectable } from '@nestjs/common';

export interface CarriedStream {
  streamId: string;
  origin: 'publish' | 'upstream';
  /** Upstream path, source first, this node last. */
  path: string[];
  /** 0 at the source. */
  hops: number;
  upstreamNodeId: string | null;
  /** The ticket this node holds from its upstream. */
  ticketId: string | null;
  /** Where the relay pulls from (the confirmed ticket's forward URL): replayed to a relay that restarted. */
  forwardUrl?: string;
  since: number;
  /** Volunteered to seed: kept without a local player, to forward to others. */
  seed: boolean;
  /** The bit rate the upstream measured when it offered the ticket: admission uses it until the relay has its own. */
  upstreamBitrateBps?: number;
}

/** The streams this node has right now, and where each comes from. */
@Injectable()
export class CarriedStreams {
  private readonly streams = new Map<string, CarriedStream>();

  get(streamId: string): CarriedStream | undefined {
    return this.streams.get(streamId);
  }

  set(stream: CarriedStream): void {
    this.streams.set(stream.streamId, stream);
  }

  delete(streamId: string): boolean {
    return this.streams.delete(streamId);
  }

  all(): CarriedStream[] {
    return [...this.streams.values()];
  }
}
