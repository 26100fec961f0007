import { Inject, Injectable } from '@nestjs/common';
import { AstralError, CarriedStream, ListedStream, STREAM_ID_PATTERN, WatchReply } from '@astral/contracts';
import { NodeConfig } from '@astral/config';
import { AGENT_CONFIG, AGENT_NODE_ID } from '../agent.tokens';
import { DirectoryLink } from '../directory/directory-link.service';
import { RelayLink } from '../relay/relay-link.service';
import { TicketsService } from '../tickets/tickets.service';
import { TicketAcquisition } from '../upstream/ticket-acquisition.service';
import { CarriedStreams } from './carried-streams';
import { playUrls } from './play-urls';

/** Watching: gets a stream onto this node with a ticket, lists what it carries, and stops watching. */
@Injectable()
export class WatchService {
  constructor(
    @Inject(AGENT_CONFIG) private readonly config: NodeConfig,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    private readonly carried: CarriedStreams,
    private readonly directoryLink: DirectoryLink,
    private readonly relayLink: RelayLink,
    private readonly tickets: TicketsService,
    private readonly acquisition: TicketAcquisition,
  ) {}

  private get directory() {
    return this.directoryLink.directory;
  }

  list(): ListedStream[] {
    return this.carried.shown().map((c) => ({ ...c, play: playUrls(this.config, c.streamId) }));
  }

  /** Gets the stream onto this node: a ticket from the best candidate, then the relay pulls. */
  async watch(streamId: string, seed = false): Promise<WatchReply> {
    if (!STREAM_ID_PATTERN.test(streamId))
      throw new AstralError('not-found', `no stream ${JSON.stringify(streamId)}`);
    const existing = this.carried.get(streamId);
    if (existing) {
      if (seed) existing.seed = true;
      return this.watchResult(existing);
    }
    const stream = await this.directory.getStream({ streamId });
    if (stream.status !== 'live') {
      throw new AstralError(
        'conflict',
        `stream ${streamId} is ${stream.status}, not live; try again once it is live`,
      );
    }
    const carried = await this.acquisition.acquire(stream, new Set(), seed);
    return this.watchResult(carried);
  }

  private watchResult(c: CarriedStream): WatchReply {
    return {
      streamId: c.streamId,
      seed: c.seed,
      upstreamNodeId: c.upstreamNodeId,
      hops: c.hops,
      play: playUrls(this.config, c.streamId),
    };
  }

  async stopWatching(streamId: string): Promise<boolean> {
    const c = this.carried.get(streamId);
    if (!c || c.origin !== 'upstream') return false;
    this.carried.delete(streamId);
    await this.tickets.endStream(streamId, 'the upstream node stopped watching');
    if (c.upstreamNodeId && c.ticketId) {
      this.acquisition.cancel(c.upstreamNodeId, c.ticketId, 'stopped watching');
    }
    await this.relayLink.relay.closeUpstream({ streamId }).catch(() => undefined);
    await this.directory
      .carrying({ streamId, nodeId: this.nodeId, hops: c.hops, carrying: false })
      .catch(() => undefined);
    return true;
  }
}
