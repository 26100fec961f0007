import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { RelayPatterns, RelayStats, RelayStreamStats, SetDirectoryLink, addressed } from '@astral/contracts';
import { RelayControlClient, request } from '@astral/transport';
import { Logger } from '@astral/config';
import { committedBps } from '@astral/overlay';
import { AGENT_CLIENT, AGENT_LOGGER, AGENT_NODE_ID } from '../agent.tokens';
import { NodeFacts } from '../overlay/node-facts';
import { LinkEvents } from '../events/link-events';

/** The agent's side of its relay: commands over Redis, and the relay's latest measurements. */
@Injectable()
export class RelayLink implements OnModuleInit {
  readonly relay: RelayControlClient;
  private latest: RelayStats | null = null;
  /** What the relay was last told (null: not yet), replayed when it restarts. */
  private forwardCommitted: number | null = null;
  private directory: SetDirectoryLink | null = null;

  constructor(
    @Inject(AGENT_CLIENT) private readonly client: ClientProxy,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
    private readonly facts: NodeFacts,
    private readonly links: LinkEvents,
  ) {
    // Loopback through Redis: generous, so a busy machine does not fail a publish.
    this.relay = new RelayControlClient(client, nodeId, 5000);
  }

  onModuleInit(): void {
    // First of the relay-ready steps (this service is built before the ones that replay onto the relay).
    this.links.on('relay-ready', async () => {
      if (this.directory) await this.sendDirectoryLink(this.directory);
      if (this.forwardCommitted !== null) await this.sendForwardCommitment(this.forwardCommitted);
    });
    this.links.on('directory-info', (info) => this.setDirectoryLink(info));
  }

  /** The forward commitment now: the tickets this node serves, at their measured rates (the one reading of it). */
  forwardCommittedBps(): number {
    return committedBps(this.facts.served, (id) => this.streamStats(id)?.bitrateBps ?? 0);
  }

  /**
   * Tells the relay the upload promised to forward tickets (when it changed), so it admits players only
   * into what is left of the limit (docs/RELAY.md, "Budget"). Never throws.
   */
  pushForwardCommitment(bps = this.forwardCommittedBps()): void {
    const value = Math.max(0, Math.round(bps));
    if (value === this.forwardCommitted) return;
    this.forwardCommitted = value;
    this.sendForwardCommitment(value).catch((err: Error) => {
      if (this.forwardCommitted === value) this.forwardCommitted = null; // sent again with the next report
      this.log.warn({ err: err.message }, 'could not tell the relay the forward commitment');
    });
  }

  private sendForwardCommitment(forwardCommittedBps: number): Promise<unknown> {
    const channel = addressed(RelayPatterns.SetPlayerBudget, this.nodeId);
    return request(this.client, channel, { forwardCommittedBps }, 5000);
  }

  /** The directory's play-token key and public URL (from its registration reply), for the relay. */
  setDirectoryLink(link: SetDirectoryLink): void {
    const same =
      this.directory?.directoryKey === link.directoryKey && this.directory?.publicUrl === link.publicUrl;
    if (same) return;
    this.directory = { ...link };
    this.sendDirectoryLink(this.directory).catch((err: Error) =>
      this.log.warn({ err: err.message }, 'could not tell the relay the directory link'),
    );
  }

  private sendDirectoryLink(link: SetDirectoryLink): Promise<unknown> {
    return request(this.client, addressed(RelayPatterns.SetDirectoryLink, this.nodeId), link, 5000);
  }

  /** Bit rate held by the remote players the relay admitted (its latest report, which it sends at once on an admission). */
  get playerCommittedBps(): number {
    return this.latest?.playerCommittedBps ?? 0;
  }

  updateStats(stats: RelayStats): void {
    this.latest = stats;
    // Measured bit rates move the forward commitment (each ticket holds the larger of its admission rate and now's).
    this.pushForwardCommitment();
  }

  get stats(): RelayStats | null {
    return this.latest;
  }

  streamStats(streamId: string): RelayStreamStats | undefined {
    return this.latest?.streams.find((s) => s.streamId === streamId);
  }

  /** The relay (re)started: every service replays its state onto it, in the order they subscribed. */
  async relayReady(): Promise<void> {
    this.log.info('relay is ready; replaying its state');
    await this.links.emit('relay-ready', (err) =>
      this.log.warn({ err: err.message }, 'could not replay state to the relay'),
    );
  }
}
