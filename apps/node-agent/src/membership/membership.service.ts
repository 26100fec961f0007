import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import {
  AstralError,
  CarrierInfo,
  MembershipHeartbeat,
  MembershipHeartbeatReply,
  MembershipJoin,
  MembershipJoinReply,
  MembershipLeave,
  MembershipRehome,
  NodeInfo,
} from '@astral/contracts';
import { PeerClient } from '@astral/transport';
import { Logger, NodeConfig, parseSeeds } from '@astral/config';
import {
  SupernodeCandidate,
  SupernodeMembers,
  advertisedCarrying,
  orderSupernodeCandidates,
} from '@astral/overlay';
import { AGENT_CLIENT, AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID } from '../agent.tokens';
import { DirectoryLink } from '../directory/directory-link.service';
import { CarriedStreams } from '../streams/carried-streams';
import { AgentEvents } from '../events/agent-events';
import { measureRtt } from '../tickets/rtt';
import { RedisHealth } from '../redis/redis-health';
import { TicketsService } from '../tickets/tickets.service';
import { RelayLink } from '../relay/relay-link.service';
import { NodeFacts } from '../overlay/node-facts';
import { LinkEvents } from '../events/link-events';

const MISS_LIMIT = 3;

/**
 * Supernode membership: a node joins the closest supernode with spare capacity (RTT measured on the data
 * path), heartbeats it both ways, fails over to the next one when it leaves or misses 3 heartbeats, and
 * promotes itself when no supernode will take it. As a supernode it keeps its members and knows which of
 * them carry which stream.
 */
@Injectable()
export class MembershipService implements OnModuleInit, OnApplicationShutdown {
  private readonly peers: PeerClient;
  /** Heartbeats may take two intervals on a busy machine before they count as missed. */
  private readonly heartbeatPeers: PeerClient;
  readonly members: SupernodeMembers;
  private knownSupernodes = new Set<string>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private misses = 0;
  private joining: Promise<void> | null = null;
  private stopping = false;

  constructor(
    @Inject(AGENT_CLIENT) client: ClientProxy,
    @Inject(AGENT_CONFIG) private readonly config: NodeConfig,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
    private readonly directoryLink: DirectoryLink,
    private readonly carried: CarriedStreams,
    private readonly events: AgentEvents,
    private readonly redisHealth: RedisHealth,
    private readonly tickets: TicketsService,
    private readonly relayLink: RelayLink,
    private readonly facts: NodeFacts,
    private readonly links: LinkEvents,
  ) {
    this.peers = new PeerClient(client, 1000);
    this.heartbeatPeers = new PeerClient(client, 2 * config.peerHeartbeatMs);
    this.members = new SupernodeMembers(config.maxChildren, config.peerHeartbeatMs, MISS_LIMIT);
  }

  onModuleInit(): void {
    this.links.on('directory-registered', () => this.findPlace(new Set()));
  }

  /** This node's place (a fact the directory heartbeat reads). */
  get role(): 'joining' | 'member' | 'supernode' {
    return this.facts.role;
  }

  private set role(role: 'joining' | 'member' | 'supernode') {
    this.facts.role = role;
  }

  get supernodeId(): string | null {
    return this.facts.supernodeId;
  }

  private set supernodeId(id: string | null) {
    this.facts.supernodeId = id;
  }

  private membersChanged(): void {
    this.facts.childCount = this.members.size;
  }

  get maxChildren(): number {
    return this.members.capacity;
  }

  setMaxChildren(max: number): void {
    this.members.setMaxChildren(max);
    if (this.role === 'supernode') {
      this.directoryLink.directory
        .promoteSupernode({ nodeId: this.nodeId, maxChildren: max })
        .catch((err: Error) =>
          this.log.warn({ err: err.message }, 'could not update the supernode capacity'),
        );
    }
  }

  /** Joins a supernode (or becomes one). Concurrent calls share one attempt. */
  findPlace(exclude: Set<string>): Promise<void> {
    if (this.stopping) return Promise.resolve();
    this.joining ??= this.join(exclude).finally(() => {
      this.joining = null;
    });
    return this.joining;
  }

  private async candidates(exclude: Set<string>): Promise<SupernodeCandidate[]> {
    const byId = new Map<
      string,
      { nodeId: string; host: string; forwardPort: number; childCount: number; maxChildren: number | null }
    >();
    for (const s of parseSeeds(this.config.seeds))
      byId.set(s.nodeId, { ...s, childCount: 0, maxChildren: null });
    try {
      const listed: NodeInfo[] = await this.directoryLink.directory.listSupernodes({
        nodeId: this.nodeId,
        hint: this.config.host,
      });
      for (const n of listed) byId.set(n.nodeId, n);
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'directory did not list supernodes; using seeds and known supernodes',
      );
    }
    for (const id of this.knownSupernodes)
      if (!byId.has(id))
        byId.set(id, { nodeId: id, host: '', forwardPort: 0, childCount: 0, maxChildren: null });
    const measured = await Promise.all(
      [...byId.values()]
        .filter((c) => c.nodeId !== this.nodeId && !exclude.has(c.nodeId))
        .map(async (c) => ({
          nodeId: c.nodeId,
          // Known-only supernodes (no address) are tried last with a nominal RTT.
          rttMs: c.host ? await measureRtt(c.host, c.forwardPort) : 1000,
          childCount: c.childCount,
          maxChildren: c.maxChildren,
        })),
    );
    return orderSupernodeCandidates(this.nodeId, measured, exclude);
  }

  private async join(exclude: Set<string>): Promise<void> {
    const previous = this.supernodeId;
    this.stopHeartbeats();
    const candidates = await this.candidates(exclude);
    const request: MembershipJoin = {
      nodeId: this.nodeId,
      host: this.config.host,
      forwardPort: this.config.forwardPort,
    };
    for (const c of candidates) {
      let reply: MembershipJoinReply;
      try {
        reply = await this.peers.join(c.nodeId, request);
      } catch (err) {
        this.log.debug(
          { supernodeId: c.nodeId, err: (err as Error).message },
          'supernode did not answer the join',
        );
        continue;
      }
      if ('refused' in reply) {
        this.log.debug({ supernodeId: c.nodeId, reason: reply.refused }, 'supernode refused the join');
        continue;
      }
      this.becomeMember(reply.supernodeId, reply.heartbeatMs, reply.knownSupernodes);
      this.log.info({ supernodeId: reply.supernodeId, previous, rttMs: c.rttMs }, 'joined a supernode');
      return;
    }
    if (candidates.length > 0 && !this.config.promoteWhenOrphaned) {
      this.log.warn('no supernode accepted this node; retrying (promotion when orphaned is off)');
      this.retryLater(exclude);
      return;
    }
    await this.promote(candidates.length === 0 ? 'no supernode exists' : 'no supernode had room');
  }

  private retryLater(exclude: Set<string>): void {
    setTimeout(() => void this.findPlace(exclude), this.config.peerHeartbeatMs * 2).unref();
  }

  private becomeMember(supernodeId: string, heartbeatMs: number, known: string[]): void {
    const wasSupernode = this.role === 'supernode';
    this.role = 'member';
    this.supernodeId = supernodeId;
    this.misses = 0;
    for (const id of known) if (id !== this.nodeId) this.knownSupernodes.add(id);
    this.knownSupernodes.add(supernodeId);
    if (wasSupernode) void this.demote();
    this.events.publish({ type: 'supernode-changed', supernodeId, role: 'member' });
    this.heartbeatTimer = setInterval(() => void this.beat(), heartbeatMs);
  }

  private async promote(why: string): Promise<void> {
    try {
      await this.directoryLink.directory.promoteSupernode({
        nodeId: this.nodeId,
        maxChildren: this.members.capacity,
      });
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'directory did not record the promotion; acting as a supernode anyway',
      );
    }
    this.role = 'supernode';
    this.supernodeId = null;
    this.log.info({ why, maxChildren: this.members.capacity }, 'promoted to supernode');
    this.events.publish({ type: 'supernode-changed', supernodeId: this.nodeId, role: 'supernode' });
    this.heartbeatTimer = setInterval(() => this.expireMembers(), this.config.peerHeartbeatMs);
  }

  private async demote(): Promise<void> {
    for (const id of this.members.ids())
      void this.peers
        .rehome(id, { supernodeId: this.nodeId, reason: 'supernode demoted' })
        .catch(() => undefined);
    for (const id of this.members.ids()) this.members.leave(id);
    this.membersChanged();
    await this.directoryLink.directory.demoteSupernode({ nodeId: this.nodeId }).catch(() => undefined);
  }

  private expireMembers(): void {
    if (!this.redisHealth.peersAccountable()) {
      this.members.touchAll(Date.now());
      return;
    }
    const expired = this.members.expire(Date.now());
    if (expired.length > 0) this.membersChanged();
    for (const id of expired) {
      this.log.info({ memberId: id }, 'member missed 3 heartbeats; dropped');
      this.events.publish({ type: 'node-left', nodeId: id, reason: 'missed heartbeats' });
    }
  }

  private async beat(): Promise<void> {
    const supernodeId = this.supernodeId;
    if (!supernodeId || this.role !== 'member') return;
    const msg: MembershipHeartbeat = {
      nodeId: this.nodeId,
      // Only what we could forward one more copy of: viewers should not ask nodes that must refuse.
      carrying: advertisedCarrying(
        this.carried.all(),
        this.tickets.limitBps,
        this.tickets.committedBps(),
        (id) => this.relayLink.streamStats(id)?.bitrateBps ?? 0,
      ),
    };
    let reply: MembershipHeartbeatReply;
    try {
      reply = await this.heartbeatPeers.membershipHeartbeat(supernodeId, msg);
    } catch {
      if (!this.redisHealth.peersAccountable()) return;
      this.misses += 1;
      if (this.misses >= MISS_LIMIT && this.supernodeId === supernodeId) {
        this.log.warn({ supernodeId, misses: this.misses }, 'supernode missed 3 heartbeats; failing over');
        void this.findPlace(new Set([supernodeId]));
      }
      return;
    }
    this.misses = 0;
    if ('unknown' in reply) {
      this.log.info({ supernodeId }, 'supernode forgot this node; joining again');
      void this.findPlace(new Set());
      return;
    }
    for (const id of reply.knownSupernodes) if (id !== this.nodeId) this.knownSupernodes.add(id);
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  // ---- as a supernode ------------------------------------------------------------------------

  handleJoin(req: MembershipJoin): MembershipJoinReply {
    if (this.role !== 'supernode') return { refused: 'not a supernode' };
    if (this.stopping) return { refused: 'leaving' };
    if (!this.members.join(req.nodeId, req.host, req.forwardPort, Date.now())) {
      return { refused: `full (${this.members.capacity} members)` };
    }
    this.membersChanged();
    this.log.info({ memberId: req.nodeId, members: this.members.size }, 'member joined');
    this.events.publish({ type: 'node-joined', nodeId: req.nodeId, role: 'member' });
    return {
      accepted: true,
      supernodeId: this.nodeId,
      heartbeatMs: this.config.peerHeartbeatMs,
      knownSupernodes: [...this.knownSupernodes],
    };
  }

  handleHeartbeat(msg: MembershipHeartbeat): MembershipHeartbeatReply {
    if (this.role !== 'supernode' || !this.members.heartbeat(msg.nodeId, msg.carrying, Date.now()))
      return { unknown: true };
    return { ok: true, knownSupernodes: [...this.knownSupernodes] };
  }

  handleLeave(msg: MembershipLeave): void {
    if (this.members.leave(msg.nodeId)) {
      this.membersChanged();
      this.log.info({ memberId: msg.nodeId, reason: msg.reason }, 'member left');
      this.events.publish({ type: 'node-left', nodeId: msg.nodeId, reason: msg.reason });
    }
  }

  handleRehome(msg: MembershipRehome): void {
    if (msg.supernodeId !== this.supernodeId) return;
    this.log.info({ supernodeId: msg.supernodeId, reason: msg.reason }, 'supernode asked us to re-home');
    this.knownSupernodes.delete(msg.supernodeId);
    void this.findPlace(new Set([msg.supernodeId]));
  }

  /** Members (and this node) that carry a stream: where a viewer asks first. */
  carriers(streamId: string): CarrierInfo[] {
    if (this.role !== 'supernode') throw new AstralError('conflict', 'not a supernode');
    const own = this.carried.get(streamId);
    const list: CarrierInfo[] = this.members.carriers(streamId).map((c) => ({ ...c, apiPort: 0 }));
    if (own)
      list.unshift({
        nodeId: this.nodeId,
        hops: own.hops,
        host: this.config.host,
        forwardPort: this.config.forwardPort,
        apiPort: this.config.apiPort,
      });
    return list.sort((a, b) => a.hops - b.hops);
  }

  /** Graceful leave: members re-home first, then this node leaves its own supernode. */
  async leave(): Promise<void> {
    this.stopping = true;
    this.stopHeartbeats();
    if (this.role === 'supernode') {
      const others = [...this.knownSupernodes].filter((id) => id !== this.nodeId);
      await Promise.all(
        this.members.ids().map((id) =>
          this.peers
            .rehome(id, {
              supernodeId: this.nodeId,
              reason: 'supernode leaving',
              suggestedSupernodeId: others[0],
            })
            .catch(() => undefined),
        ),
      );
      await this.directoryLink.directory.demoteSupernode({ nodeId: this.nodeId }).catch(() => undefined);
    } else if (this.supernodeId) {
      await this.peers
        .leaveSupernode(this.supernodeId, { nodeId: this.nodeId, reason: 'leaving' })
        .catch(() => undefined);
    }
  }

  onApplicationShutdown(): void {
    this.stopping = true;
    this.stopHeartbeats();
  }
}
