import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { PublishReply } from '@astral/contracts';
import { Logger, NodeConfig, urlHost } from '@astral/config';
import { AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID } from '../agent.tokens';
import { DirectoryLink } from '../directory/directory-link.service';
import { RelayLink } from '../relay/relay-link.service';
import { TicketsService } from '../tickets/tickets.service';
import { AgentEvents } from '../events/agent-events';
import { CarriedStreams } from './carried-streams';
import { playUrls } from './play-urls';

/** Publishing: creates streams sourced here with their keys, and follows the relay's live and ended events. */
@Injectable()
export class PublishService {
  private readonly keyHashes = new Map<string, string>();

  constructor(
    @Inject(AGENT_CONFIG) private readonly config: NodeConfig,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
    private readonly carried: CarriedStreams,
    private readonly directoryLink: DirectoryLink,
    private readonly relayLink: RelayLink,
    private readonly tickets: TicketsService,
    private readonly events: AgentEvents,
  ) {}

  private get directory() {
    return this.directoryLink.directory;
  }

  /** Creates a stream sourced at this node and returns its secret key (shown to the caller only). */
  async publish(title: string, description?: string): Promise<PublishReply> {
    const stream = await this.directory.createStream({ sourceNodeId: this.nodeId, title, description });
    const key = randomBytes(18).toString('base64url');
    const keyHash = createHash('sha256').update(key).digest('hex');
    this.keyHashes.set(stream.streamId, keyHash);
    // Right after start-up the relay may not listen yet: a request it never saw times out. Try again
    // (the key is kept, and replayed to a relay that says it is ready) before failing the create.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.relayLink.relay.authorizePublish({ streamId: stream.streamId, keyHash });
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
        this.log.warn(
          { streamId: stream.streamId, attempt, err: (err as Error).message },
          'relay did not take the publish key; trying again',
        );
      }
    }
    this.log.info({ streamId: stream.streamId }, 'stream created; waiting for the publisher');
    const h = urlHost(this.config.host);
    return {
      streamId: stream.streamId,
      key,
      rtmpUrl: `rtmp://${h}:${this.config.rtmpPort}/live/${stream.streamId}?key=${key}`,
      publishUrl: `http://${h}:${this.config.httpPort}/live/${stream.streamId}.flv?key=${key}`,
      obs: { server: `rtmp://${h}:${this.config.rtmpPort}/live`, streamKey: `${stream.streamId}?key=${key}` },
      play: playUrls(this.config, stream.streamId),
    };
  }

  /** Authorises every key again, on a relay that (re)started and lost them. */
  async replayKeys(): Promise<void> {
    for (const [streamId, keyHash] of this.keyHashes)
      await this.relayLink.relay.authorizePublish({ streamId, keyHash });
  }

  /** The relay has a stream: a local publish began, or an upstream pull started. */
  async relayStreamLive(streamId: string, origin: 'publish' | 'upstream'): Promise<void> {
    if (origin !== 'publish') return;
    this.carried.set({
      streamId,
      origin,
      path: [this.nodeId],
      hops: 0,
      upstreamNodeId: null,
      ticketId: null,
      since: Date.now(),
      seed: false,
    });
    this.events.publish({ type: 'stream-live', streamId, origin });
    await this.directory.announceStream({ streamId, nodeId: this.nodeId });
    this.log.info({ streamId }, 'stream is live; announced to the directory');
  }

  async relayStreamEnded(streamId: string, origin: 'publish' | 'upstream'): Promise<void> {
    const c = this.carried.get(streamId);
    if (!c || c.origin !== origin) return;
    this.carried.delete(streamId);
    this.events.publish({ type: 'stream-ended', streamId });
    await this.tickets.endStream(streamId, 'the stream ended');
    if (origin === 'publish') {
      await this.directory.endStream({ streamId, nodeId: this.nodeId });
      this.log.info({ streamId }, 'publisher stopped; stream ended in the directory');
    }
  }
}
