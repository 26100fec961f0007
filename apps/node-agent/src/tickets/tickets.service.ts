import {
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  AstralError,
  OutgoingTicket,
  TicketCancel,
  TicketConfirm,
  TicketConfirmReply,
  TicketHeartbeat,
  TicketHeartbeatReply,
  TicketReply,
  TicketRequest,
} from '@astral/contracts';
import { PeerClient } from '@astral/transport';
import { ClientProxy } from '@nestjs/microservices';
import { Logger, NodeConfig } from '@astral/config';
import { NodeKeys } from '@astral/identity';
import { committedBps, headroomAfter, ticketOfferRefusal } from '@astral/overlay';
import { AGENT_CLIENT, AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID, AGENT_NODE_KEYS } from '../agent.tokens';
import { AgentEvents } from '../events/agent-events';
import { RedisHealth } from '../redis/redis-health';
import { CarriedStreams } from '../streams/carried-streams';
import { DirectoryLink } from '../directory/directory-link.service';
import { RelayLink } from '../relay/relay-link.service';
import { NodeFacts } from '../overlay/node-facts';
import { LinkEvents } from '../events/link-events';
import {
  ServedTicket,
  listedTicket,
  requesterKeyOf,
  signServedToken,
  tokenNeedsRefresh,
} from './served-ticket';

/** How long an offer holds its reservation without a confirm. */
export const OFFER_TTL_MS = 5000;

/**
 * The serving side of tickets: offers only with headroom, measured from the relay's real bit rate;
 * never to a node on its own upstream path; reservations lapse unless confirmed.
 */
@Injectable()
export class TicketsService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly tickets = new Map<string, ServedTicket>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private uploadLimitBps: number | null;
  private readonly peers: PeerClient;
  private expiryTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(AGENT_CLIENT) client: ClientProxy,
    @Inject(AGENT_CONFIG) private readonly config: NodeConfig,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
    @Inject(AGENT_NODE_KEYS) private readonly keys: NodeKeys,
    private readonly carried: CarriedStreams,
    private readonly directoryLink: DirectoryLink,
    private readonly relayLink: RelayLink,
    private readonly events: AgentEvents,
    private readonly redisHealth: RedisHealth,
    private readonly facts: NodeFacts,
    private readonly links: LinkEvents,
  ) {
    this.peers = new PeerClient(client, 1000);
    this.uploadLimitBps = config.uploadLimitBps ?? null;
  }

  onModuleInit(): void {
    this.links.on('relay-ready', () => this.replayAdmissions());
  }

  onApplicationBootstrap(): void {
    // Timers run before I/O in each turn of the event loop: after the loop was held up (a loaded machine),
    // heartbeats may still wait in the socket. Deciding after one I/O phase (setImmediate) reads them first.
    this.expiryTimer = setInterval(
      () => setImmediate(() => this.expireSilentTickets()),
      this.config.peerHeartbeatMs,
    );
  }

  /**
   * The tickets changed: the node's facts follow (the directory heartbeat and the relay read them), and
   * the relay is told the new forward commitment (one budget: it admits players into what forwards leave).
   */
  private ticketsChanged(): void {
    this.facts.served = [...this.tickets.values()].map((t) => ({
      streamId: t.streamId,
      bitrateBps: t.bitrateBps,
      confirmed: t.state === 'confirmed',
    }));
    this.relayLink.pushForwardCommitment();
  }

  onApplicationShutdown(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    for (const t of this.timers.values()) clearTimeout(t);
  }

  /** Confirmed tickets whose downstream missed 3 heartbeats end, closing their forwards. */
  private expireSilentTickets(): void {
    const now = Date.now();
    if (!this.redisHealth.peersAccountable(now)) {
      // Heartbeats could not cross; restart the clock so nobody is expired for Redis's outage.
      for (const t of this.tickets.values())
        if (t.state === 'confirmed') t.lastHeartbeat = Math.max(t.lastHeartbeat, now);
      return;
    }
    const limit = now - 3 * this.config.peerHeartbeatMs;
    for (const t of this.tickets.values()) {
      if (t.state === 'confirmed' && t.lastHeartbeat < limit) {
        void this.end(t.ticketId, 'ticket expired: the downstream missed 3 heartbeats');
      }
    }
  }

  heartbeat(msg: TicketHeartbeat): TicketHeartbeatReply {
    const t = this.tickets.get(msg.ticketId);
    if (!t || t.requesterId !== msg.requesterId || t.state !== 'confirmed') return { unknown: true };
    t.lastHeartbeat = Date.now();
    const path = this.carried.get(t.streamId)?.path;
    if (!tokenNeedsRefresh(t.tokenExpiresAt, this.config.ticketTokenTtlMs, t.lastHeartbeat))
      return { ok: true, path };
    return { ok: true, path, token: this.signToken(t) };
  }

  get limitBps(): number | null {
    return this.uploadLimitBps;
  }

  /**
   * Changes the upload limit at run time. Forwards that no longer fit end first (newest first, with a
   * reason, so their downstream nodes re-parent at once) rather than being starved by the relay's budget.
   */
  async setUploadLimit(limitBps: number | null): Promise<void> {
    this.uploadLimitBps = limitBps;
    this.facts.uploadLimitBps = limitBps;
    const newestFirst = [...this.tickets.values()].sort((a, b) => b.createdAt - a.createdAt);
    for (const t of newestFirst) {
      if (limitBps === null || this.committedBps() <= limitBps) break;
      await this.end(t.ticketId, 'upload limit lowered');
    }
    await this.relayLink.relay.setUploadLimit(limitBps === null ? {} : { uploadLimitBps: limitBps });
  }

  confirmedCount(): number {
    return [...this.tickets.values()].filter((t) => t.state === 'confirmed').length;
  }

  list(): OutgoingTicket[] {
    return [...this.tickets.values()].map(listedTicket);
  }

  /** Bit rate already promised to downstream nodes (offered or confirmed), from measured stream rates. */
  committedBps(): number {
    return committedBps(this.facts.served, (id) => this.relayLink.streamStats(id)?.bitrateBps ?? 0);
  }

  async request(req: TicketRequest): Promise<TicketReply> {
    const refuse = (reason: string): TicketReply => {
      this.log.debug({ streamId: req.streamId, requesterId: req.requesterId, reason }, 'ticket refused');
      return { refused: reason };
    };
    const stream = this.carried.get(req.streamId);
    if (!stream) return refuse('this node does not carry the stream');
    if (req.requesterId === this.nodeId || stream.path.includes(req.requesterId)) {
      return refuse('the requester is upstream of this node (a loop)');
    }
    const requester = requesterKeyOf(req.requesterId, await this.directoryLink.nodeInfo(req.requesterId));
    if ('refusal' in requester) {
      this.log.warn(
        { requesterId: req.requesterId, streamId: req.streamId, listed: requester.listed },
        'ticket request from a node without a known key refused',
      );
      throw requester.refusal;
    }
    // The larger of our relay's measurement and the upstream's (from its offer): right after the pull
    // starts our relay has seen a second or two, often without a keyframe, and under-measures.
    const bitrate = Math.max(
      this.relayLink.streamStats(req.streamId)?.bitrateBps ?? 0,
      stream.upstreamBitrateBps ?? 0,
    );
    // Forwards and the relay's remote players share the limit (its latest report, sent at once on an admission).
    const committed = this.committedBps() + this.relayLink.playerCommittedBps;
    const refusal = ticketOfferRefusal(
      this.uploadLimitBps,
      committed,
      bitrate,
      req.canForward ?? true,
      req.patient ?? false,
    );
    if (refusal) return refuse(refusal);
    const ticketId = randomUUID();
    const expiresAt = Date.now() + OFFER_TTL_MS;
    this.tickets.set(ticketId, {
      ticketId,
      streamId: req.streamId,
      requesterId: req.requesterId,
      state: 'offered',
      bitrateBps: bitrate,
      expiresAt,
      createdAt: Date.now(),
      token: null,
      lastHeartbeat: Date.now(),
      requesterKey: requester.key,
      tokenExpiresAt: 0,
    });
    this.timers.set(
      ticketId,
      setTimeout(() => this.expireOffer(ticketId), OFFER_TTL_MS),
    );
    this.ticketsChanged();
    return {
      offer: {
        ticketId,
        streamId: req.streamId,
        nodeId: this.nodeId,
        hops: stream.hops + 1,
        path: stream.path,
        headroomBps: headroomAfter(this.uploadLimitBps, committed, bitrate),
        expiresAt,
        host: this.config.host,
        forwardPort: this.config.forwardPort,
        bitrateBps: bitrate,
      },
    };
  }

  private expireOffer(ticketId: string): void {
    const t = this.tickets.get(ticketId);
    this.timers.delete(ticketId);
    if (t?.state === 'offered') {
      this.tickets.delete(ticketId);
      this.ticketsChanged();
      this.log.debug({ ticketId, streamId: t.streamId }, 'offer lapsed unconfirmed');
    }
  }

  async confirm(msg: TicketConfirm): Promise<TicketConfirmReply> {
    const t = this.tickets.get(msg.ticketId);
    if (!t || t.requesterId !== msg.requesterId)
      throw new AstralError('not-found', `no offer ${msg.ticketId} for this requester`);
    if (t.state === 'offered' && t.expiresAt !== null && t.expiresAt < Date.now()) {
      throw new AstralError('conflict', `offer ${msg.ticketId} has lapsed; ask again`);
    }
    if (!this.carried.get(t.streamId))
      throw new AstralError('conflict', 'this node no longer carries the stream');
    await this.relayLink.relay.admitForward({
      ticketId: t.ticketId,
      streamId: t.streamId,
      downstreamNodeId: t.requesterId,
    });
    const timer = this.timers.get(t.ticketId);
    if (timer) clearTimeout(timer);
    this.timers.delete(t.ticketId);
    Object.assign(t, { state: 'confirmed', expiresAt: null, lastHeartbeat: Date.now() });
    this.log.info(
      { ticketId: t.ticketId, streamId: t.streamId, requesterId: t.requesterId },
      'ticket confirmed',
    );
    this.events.publish({
      type: 'ticket-created',
      ticketId: t.ticketId,
      streamId: t.streamId,
      direction: 'outgoing',
      peerId: t.requesterId,
    });
    // The token only: the requester pulls from the address the directory lists for this node.
    return { ticketId: t.ticketId, token: this.signToken(t) };
  }

  private signToken(t: ServedTicket): string {
    return signServedToken(this.keys, this.nodeId, t, this.config.ticketTokenTtlMs, Date.now());
  }

  async cancel(msg: TicketCancel): Promise<void> {
    const t = this.tickets.get(msg.ticketId);
    if (!t || t.requesterId !== msg.requesterId) return;
    await this.end(t.ticketId, msg.reason, false);
  }

  /**
   * Ends a ticket this node gave: tells the downstream (so it re-parents at once, unless it asked for
   * the end itself), then closes the forward on the relay if it was confirmed.
   */
  async end(ticketId: string, reason: string, notify = true): Promise<boolean> {
    const t = this.tickets.get(ticketId);
    if (!t) return false;
    this.tickets.delete(ticketId);
    this.ticketsChanged();
    if (notify && t.state === 'confirmed') {
      this.peers
        .ticketEnded(t.requesterId, { ticketId, nodeId: this.nodeId, streamId: t.streamId, reason })
        .catch((err: Error) => this.log.debug({ err: err.message }, 'ticket end not delivered'));
    }
    if (t.state === 'confirmed') {
      this.events.publish({
        type: 'ticket-ended',
        ticketId,
        streamId: t.streamId,
        direction: 'outgoing',
        reason,
      });
    }
    const timer = this.timers.get(ticketId);
    if (timer) clearTimeout(timer);
    this.timers.delete(ticketId);
    if (t.state === 'confirmed') {
      await this.relayLink.relay
        .revokeForward({ ticketId, reason })
        .catch((err: Error) =>
          this.log.warn({ err: err.message, ticketId }, 'relay did not confirm the revoke'),
        );
    }
    this.log.info({ ticketId, streamId: t.streamId, requesterId: t.requesterId, reason }, 'ticket ended');
    return true;
  }

  /** The relay closed a forward by itself (downstream gone, or lagging): the ticket ends too. */
  forwardClosed(ticketId: string, reason: string): void {
    const t = this.tickets.get(ticketId);
    if (t && t.state === 'confirmed') {
      this.tickets.delete(ticketId);
      this.ticketsChanged();
      this.log.info({ ticketId, streamId: t.streamId, reason }, 'forward closed by the relay; ticket ended');
    }
  }

  /** Ends every ticket of a stream this node no longer carries. */
  async endStream(streamId: string, reason: string): Promise<void> {
    for (const t of [...this.tickets.values()])
      if (t.streamId === streamId) await this.end(t.ticketId, reason);
  }

  async endAll(reason: string): Promise<void> {
    await Promise.all([...this.tickets.keys()].map((id) => this.end(id, reason)));
  }

  /**
   * Graceful leave, make-before-break: tells every downstream to re-parent while our relay still
   * serves it, waits (up to `timeoutMs`) until they have cancelled their tickets, then ends the rest.
   */
  async drain(reason: string, timeoutMs: number): Promise<void> {
    const confirmed = [...this.tickets.values()].filter((t) => t.state === 'confirmed');
    for (const t of confirmed) {
      this.peers
        .ticketEnded(t.requesterId, {
          ticketId: t.ticketId,
          nodeId: this.nodeId,
          streamId: t.streamId,
          reason,
        })
        .catch(() => undefined);
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && confirmed.some((t) => this.tickets.has(t.ticketId))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const left = confirmed.filter((t) => this.tickets.has(t.ticketId)).length;
    if (confirmed.length > 0)
      this.log.info({ children: confirmed.length, stillAttached: left }, 'downstream nodes re-parented');
    await this.endAll(reason);
  }

  private async replayAdmissions(): Promise<void> {
    if (this.uploadLimitBps !== null)
      await this.relayLink.relay.setUploadLimit({ uploadLimitBps: this.uploadLimitBps });
    for (const t of this.tickets.values()) {
      if (t.state === 'confirmed') {
        await this.relayLink.relay.admitForward({
          ticketId: t.ticketId,
          streamId: t.streamId,
          downstreamNodeId: t.requesterId,
        });
      }
    }
  }
}
