import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { NodeInfo, RegisterNodeReply, SetDirectoryLink } from '@astral/contracts';
import { heartbeatLoad } from '../relay/heartbeat-load';
import { RelayLink } from '../relay/relay-link.service';
import { CarriedStreams } from '../streams/carried-streams';
import { NodeFacts } from '../overlay/node-facts';
import { LinkEvents } from '../events/link-events';
import { DirectoryClient } from '@astral/transport';
import { Logger, NodeConfig } from '@astral/config';
import { AGENT_CLIENT, AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID, AGENT_NODE_KEYS } from '../agent.tokens';
import { NodeKeys } from '@astral/identity';

export const AGENT_VERSION = '0.1.0';

/**
 * The node's membership in the directory: registers at start (retrying until the directory answers),
 * heartbeats as events, re-registers if the directory has forgotten it, unregisters on leave.
 */
@Injectable()
export class DirectoryLink implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly directory: DirectoryClient;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatIntervalMs = 2000;
  private registered = false;
  private stopping = false;
  private knownNodes = new Map<string, NodeInfo>();
  private nodesRefresh: Promise<void> | null = null;
  private beats = 0;

  constructor(
    @Inject(AGENT_CLIENT) client: ClientProxy,
    @Inject(AGENT_CONFIG) private readonly config: NodeConfig,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
    @Inject(AGENT_NODE_KEYS) private readonly keys: NodeKeys,
    private readonly facts: NodeFacts,
    private readonly links: LinkEvents,
    private readonly relayLink: RelayLink,
    private readonly carried: CarriedStreams,
  ) {
    this.directory = new DirectoryClient(client, 3000);
  }

  private noteReply(reply: RegisterNodeReply): void {
    const info: SetDirectoryLink = {};
    if (reply.directoryKey) info.directoryKey = reply.directoryKey;
    if (reply.publicUrl) info.publicUrl = reply.publicUrl;
    void this.links.emit('directory-info', this.warnStep, info);
  }

  get isRegistered(): boolean {
    return this.registered;
  }

  onApplicationBootstrap(): void {
    // In the background: the local API answers 503 on /api/status until the directory accepts us.
    this.register().catch((err: Error) => this.log.error({ err: err.message }, 'registration loop failed'));
  }

  private async register(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        const reply = await this.directory.register(this.registration());
        this.heartbeatIntervalMs = reply.heartbeatIntervalMs;
        this.registered = true;
        this.noteReply(reply);
        for (const n of reply.supernodes) this.knownNodes.set(n.nodeId, n);
        this.log.info(
          { heartbeatIntervalMs: reply.heartbeatIntervalMs, supernodes: reply.supernodes.length },
          'registered with the directory',
        );
        this.scheduleHeartbeat();
        void this.links.emit('directory-registered', this.warnStep);
        return;
      } catch (err) {
        const delay = Math.min(5000, 250 * attempt);
        this.log.warn(
          { err: (err as Error).message, attempt },
          `directory did not accept the registration; retrying in ${delay} ms`,
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private readonly warnStep = (err: Error) =>
    this.log.warn({ err: err.message }, 'start-up step after registration failed');

  private registration() {
    return {
      nodeId: this.nodeId,
      publicKey: this.keys.publicKey,
      host: this.config.host,
      rtmpPort: this.config.rtmpPort,
      httpPort: this.config.httpPort,
      forwardPort: this.config.forwardPort,
      apiPort: this.config.apiPort,
      uploadLimitBps: this.facts.uploadLimitBps ?? undefined,
      version: AGENT_VERSION,
    };
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      // Every 10th beat re-registers (an idempotent upsert), which heals a directory that expired this
      // node while Redis was away; heartbeats themselves are fire-and-forget events.
      const beat =
        ++this.beats % 10 === 0
          ? this.directory.register(this.registration()).then((reply) => this.noteReply(reply))
          : this.directory.heartbeat({
              nodeId: this.nodeId,
              forwards: this.facts.forwards,
              childCount: this.facts.role === 'supernode' ? this.facts.childCount : undefined,
              supernodeId: this.facts.role === 'member' ? (this.facts.supernodeId ?? undefined) : undefined,
              ...heartbeatLoad(
                this.relayLink.stats,
                this.carried.all(),
                this.relayLink.forwardCommittedBps(),
              ),
            });
      beat.catch((err: Error) =>
        this.log.warn({ err: err.message }, 'heartbeat not sent; Redis may be down'),
      );
    }, this.heartbeatIntervalMs);
  }

  /** Is `nodeId` a node the directory knows? Cached; asks the directory on a miss. */
  async isKnownNode(nodeId: string): Promise<boolean> {
    return (await this.nodeInfo(nodeId)) !== undefined;
  }

  /**
   * The directory's listing of `nodeId` (its address and public key). Cached; asks the directory on a
   * miss, or always with `fresh` (a listing that disagrees with what a peer says may be out of date).
   */
  async nodeInfo(nodeId: string, fresh = false): Promise<NodeInfo | undefined> {
    const cached = this.knownNodes.get(nodeId);
    if (cached && !fresh) return cached;
    await this.refreshNodes();
    return this.knownNodes.get(nodeId);
  }

  /** Lookups that miss at once (offers from several peers) share one ListNodes request. */
  private refreshNodes(): Promise<void> {
    this.nodesRefresh ??= this.directory
      .listNodes({})
      .then((nodes) => {
        this.knownNodes = new Map(nodes.map((n) => [n.nodeId, n]));
      })
      .finally(() => {
        this.nodesRefresh = null;
      });
    return this.nodesRefresh;
  }

  /** Leaves the directory: stops heartbeats and unregisters (else the directory expires the node). */
  async leave(): Promise<void> {
    this.stopping = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (!this.registered) return;
    try {
      await this.directory.unregister({ nodeId: this.nodeId });
      this.log.info('unregistered from the directory');
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'could not unregister; the directory will expire this node',
      );
    }
  }

  onApplicationShutdown(): void {
    this.stopping = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
  }
}
