import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { createHash, randomBytes } from 'node:crypto';
import {
  AstralError,
  CarriedStream,
  CarrierInfo,
  ListedStream,
  PlayUrls,
  PublishReply,
  STREAM_ID_PATTERN,
  StreamInfo,
  TicketEnded,
  TicketOffer,
  WatchReply,
} from '@astral/contracts';
import { PeerClient } from '@astral/transport';
import { Logger, NodeConfig, urlHost } from '@astral/config';
import {
  candidateOrder,
  candidateWindow,
  failoverExclusion,
  pathBelow,
  samePath,
  selectOffer,
} from '@astral/overlay';
import { AGENT_CLIENT, AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID } from '../agent.tokens';
import { DirectoryLink } from '../directory/directory-link.service';
import { RelayLink } from '../relay/relay-link.service';
import { TicketsService } from '../tickets/tickets.service';
import { measureRtt } from '../tickets/rtt';
import { CarriedStreams } from './carried-streams';
import { MembershipService } from '../membership/membership.service';
import { AgentEvents } from '../events/agent-events';
import { RedisHealth } from '../redis/redis-health';

/** How long a watch request keeps trying to get a ticket before it gives up. */
const WATCH_DEADLINE_MS = 10_000;
/** After this long without a ticket, a node that cannot forward may take a forwarder's last slots. */
const PATIENT_AFTER_MS = 5_000;

/** Publishing and watching: creates streams with their keys, and gets and keeps tickets for viewing. */
@Injectable()
export class StreamsService implements BeforeApplicationShutdown {
  private readonly peers: PeerClient;
  /** For look-ups that have a fallback: a dead peer costs 400 ms, not a full timeout. */
  private readonly shortPeers: PeerClient;
  /** Heartbeats may take two intervals on a busy machine before they count as missed. */
  private readonly heartbeatPeers: PeerClient;
  private readonly keyHashes = new Map<string, string>();
  private readonly failovers = new Set<string>();
  private readonly heartbeatMisses = new Map<string, number>();
  private readonly heartbeatTimer: NodeJS.Timeout;
  private leaving = false;

  constructor(
    @Inject(AGENT_CLIENT) client: ClientProxy,
    @Inject(AGENT_CONFIG) private readonly config: NodeConfig,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
    private readonly carried: CarriedStreams,
    private readonly directoryLink: DirectoryLink,
    private readonly relayLink: RelayLink,
    private readonly tickets: TicketsService,
    private readonly membership: MembershipService,
    private readonly events: AgentEvents,
    private readonly redisHealth: RedisHealth,
  ) {
    this.peers = new PeerClient(client, 1000);
    this.shortPeers = new PeerClient(client, 400);
    this.heartbeatPeers = new PeerClient(client, 2 * config.peerHeartbeatMs);
    relayLink.onReady(() => this.replayToRelay());
    this.heartbeatTimer = setInterval(() => this.heartbeatUpstreams(), config.peerHeartbeatMs);
  }

  /**
   * Heartbeats for the tickets this node holds; the upstream's answer is its heartbeat back. Three
   * misses, or an upstream that no longer knows the ticket, count as a lost upstream.
   */
  private heartbeatUpstreams(): void {
    for (const c of this.carried.all()) {
      if (c.origin !== 'upstream' || !c.upstreamNodeId || !c.ticketId || this.failovers.has(c.streamId))
        continue;
      const { streamId, upstreamNodeId, ticketId } = c;
      this.heartbeatPeers.ticketHeartbeat(upstreamNodeId, { ticketId, requesterId: this.nodeId }).then(
        (reply) => {
          this.heartbeatMisses.set(ticketId, 0);
          if ('unknown' in reply)
            void this.upstreamLost(streamId, upstreamNodeId, 'the upstream no longer knows our ticket');
          else if (reply.path !== undefined)
            this.followUpstreamPath(streamId, ticketId, upstreamNodeId, reply.path);
        },
        () => {
          if (!this.redisHealth.peersAccountable()) return;
          const misses = (this.heartbeatMisses.get(ticketId) ?? 0) + 1;
          this.heartbeatMisses.set(ticketId, misses);
          if (misses >= 3)
            void this.upstreamLost(
              streamId,
              upstreamNodeId,
              'ticket expired: the upstream missed 3 heartbeats',
            );
        },
      );
    }
  }

  /**
   * The upstream's current path, from its heartbeat reply: when a node above re-parented, this node's
   * path and hops follow (and the directory's hop count with them), so loop checks see the real tree.
   * Finding itself on the upstream's path means a forwarding loop: re-parent at once.
   */
  private followUpstreamPath(
    streamId: string,
    ticketId: string,
    upstreamNodeId: string,
    upstreamPath: unknown,
  ): void {
    const c = this.carried.get(streamId);
    if (!c || c.ticketId !== ticketId || this.failovers.has(streamId)) return;
    const below = pathBelow(upstreamPath, this.nodeId);
    if (below === null) {
      this.log.warn(
        { streamId, upstreamNodeId },
        'ignored a malformed upstream path in a ticket heartbeat reply',
      );
      return;
    }
    if ('loop' in below) {
      void this.upstreamLost(
        streamId,
        upstreamNodeId,
        'a forwarding loop: this node is on its upstream’s path',
      );
      return;
    }
    if (samePath(below.path, c.path)) return;
    const hopsChanged = below.hops !== c.hops;
    this.carried.set({ ...c, path: below.path, hops: below.hops });
    this.log.debug({ streamId, upstreamNodeId, hops: below.hops }, 'upstream path changed');
    if (hopsChanged) {
      this.directory
        .carrying({ streamId, nodeId: this.nodeId, hops: below.hops, carrying: true })
        .catch((err: Error) =>
          this.log.debug({ err: err.message, streamId }, 'hop count not sent to the directory'),
        );
    }
  }

  /** The upstream ended our ticket (it is leaving, or revoked it): re-parent now. */
  async ticketEnded(msg: TicketEnded): Promise<void> {
    const c = this.carried.get(msg.streamId);
    if (!c || c.ticketId !== msg.ticketId) return;
    // No cancel afterwards: the upstream ended the ticket itself, and keeps serving until our relay
    // has switched and dropped its pull (make before break).
    await this.upstreamLost(msg.streamId, msg.nodeId, `upstream ended the ticket: ${msg.reason}`, false);
  }

  private get directory() {
    return this.directoryLink.directory;
  }

  private hostForUrl(): string {
    return urlHost(this.config.host);
  }

  playUrls(streamId: string): PlayUrls {
    const h = this.hostForUrl();
    return {
      rtmp: `rtmp://${h}:${this.config.rtmpPort}/live/${streamId}`,
      httpFlv: `http://${h}:${this.config.httpPort}/live/${streamId}.flv`,
    };
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
    const h = this.hostForUrl();
    return {
      streamId: stream.streamId,
      key,
      rtmpUrl: `rtmp://${h}:${this.config.rtmpPort}/live/${stream.streamId}?key=${key}`,
      publishUrl: `http://${h}:${this.config.httpPort}/live/${stream.streamId}.flv?key=${key}`,
      obs: { server: `rtmp://${h}:${this.config.rtmpPort}/live`, streamKey: `${stream.streamId}?key=${key}` },
      play: this.playUrls(stream.streamId),
    };
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
      await this.directory.endStream({ streamId });
      this.log.info({ streamId }, 'publisher stopped; stream ended in the directory');
    }
  }

  list(): ListedStream[] {
    return this.carried.all().map((c) => ({ ...c, play: this.playUrls(c.streamId) }));
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
    const carried = await this.acquire(stream, new Set(), seed);
    return this.watchResult(carried);
  }

  private watchResult(c: CarriedStream): WatchReply {
    return {
      streamId: c.streamId,
      seed: c.seed,
      upstreamNodeId: c.upstreamNodeId,
      hops: c.hops,
      play: this.playUrls(c.streamId),
    };
  }

  /**
   * Nodes already carrying the stream: first those our supernode knows (its members), then the
   * directory's list, merged by node id.
   */
  private async carriers(streamId: string): Promise<CarrierInfo[]> {
    const supernodeId = this.membership.supernodeId;
    // Both asked at once: a dead supernode must not delay a failover by its timeout.
    const [fromSupernode, fromDirectory] = await Promise.all([
      this.membership.role === 'supernode'
        ? Promise.resolve(this.membership.carriers(streamId))
        : supernodeId
          ? this.shortPeers
              .supernodeCarriers(supernodeId, { streamId, requesterId: this.nodeId })
              .catch((err: Error) => {
                this.log.debug({ err: err.message }, 'supernode did not list carriers');
                return [] as CarrierInfo[];
              })
          : Promise.resolve([] as CarrierInfo[]),
      this.directory.listCarriers({ streamId }),
    ]);
    const found = new Map<string, CarrierInfo>();
    for (const c of [...fromSupernode, ...fromDirectory]) if (!found.has(c.nodeId)) found.set(c.nodeId, c);
    return [...found.values()];
  }

  /**
   * Asks candidates for offers (carriers nearest the source first, the source last), confirms the best
   * by hops, RTT and headroom, cancels the rest, and points the relay at the chosen upstream.
   */
  private async acquire(stream: StreamInfo, exclude: Set<string>, seed = false): Promise<CarriedStream> {
    const started = Date.now();
    const deadline = started + WATCH_DEADLINE_MS;
    let lastReason = 'no candidates';
    for (let attempt = 0; Date.now() < deadline && !this.leaving; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 150 * attempt)));
      const carriers = await this.carriers(stream.streamId);
      const order = candidateOrder(this.nodeId, carriers, [], stream.sourceNodeId, exclude);
      if (order.length === 0) {
        lastReason = 'no node carries the stream';
        continue;
      }
      // A retry asks the next candidates along the order, not the same refusers again.
      const asked = candidateWindow(order, attempt);
      const replies = await Promise.allSettled(
        asked.map((nodeId) =>
          this.peers.requestTicket(nodeId, {
            streamId: stream.streamId,
            requesterId: this.nodeId,
            exclude: [...exclude],
            canForward: this.tickets.limitBps === null || this.tickets.limitBps > 0,
            patient: Date.now() - started > PATIENT_AFTER_MS,
          }),
        ),
      );
      const offers: TicketOffer[] = [];
      const reasons: string[] = [];
      replies.forEach((r, i) => {
        if (r.status === 'fulfilled' && 'offer' in r.value) offers.push(r.value.offer);
        else
          reasons.push(
            `${asked[i].slice(0, 8)}: ${r.status === 'fulfilled' && 'refused' in r.value ? r.value.refused : (r as PromiseRejectedResult).reason}`,
          );
      });
      if (offers.length === 0) {
        lastReason = reasons.join('; ');
        continue;
      }
      const rtts = new Map<string, number>();
      await Promise.all(
        offers.map(async (o) => {
          const rtt = await measureRtt(o.host, o.forwardPort);
          if (rtt !== null) rtts.set(o.nodeId, rtt);
        }),
      );
      const { chosen, rejected } = selectOffer(this.nodeId, offers, rtts, exclude, stream.sourceNodeId);
      for (const o of rejected) this.cancelTicket(o.nodeId, o.ticketId, 'another offer was chosen');
      if (!chosen) {
        lastReason = 'every offer would make a loop';
        continue;
      }
      try {
        const confirmed = await this.peers.confirmTicket(chosen.nodeId, {
          ticketId: chosen.ticketId,
          requesterId: this.nodeId,
        });
        await this.relayLink.relay.openUpstream({
          streamId: stream.streamId,
          upstreamNodeId: chosen.nodeId,
          url: confirmed.forwardUrl,
        });
        const carried: CarriedStream = {
          streamId: stream.streamId,
          origin: 'upstream',
          path: [...chosen.path, this.nodeId],
          hops: chosen.hops,
          upstreamNodeId: chosen.nodeId,
          ticketId: chosen.ticketId,
          forwardUrl: confirmed.forwardUrl,
          since: Date.now(),
          seed: seed || (this.carried.get(stream.streamId)?.seed ?? false),
          upstreamBitrateBps: chosen.bitrateBps,
        };
        this.carried.set(carried);
        this.events.publish({
          type: 'ticket-created',
          ticketId: chosen.ticketId,
          streamId: stream.streamId,
          direction: 'incoming',
          peerId: chosen.nodeId,
        });
        await this.directory.carrying({
          streamId: stream.streamId,
          nodeId: this.nodeId,
          hops: chosen.hops,
          carrying: true,
        });
        this.log.info(
          {
            streamId: stream.streamId,
            upstreamNodeId: chosen.nodeId,
            hops: chosen.hops,
            rttMs: rtts.get(chosen.nodeId),
          },
          'ticket confirmed; pulling',
        );
        return carried;
      } catch (err) {
        lastReason = `confirm with ${chosen.nodeId} failed: ${(err as Error).message}`;
        this.cancelTicket(chosen.nodeId, chosen.ticketId, 'confirm failed');
      }
    }
    throw new AstralError(
      'no-capacity',
      `no node could forward stream ${stream.streamId} within ${WATCH_DEADLINE_MS / 1000} s (${lastReason})`,
    );
  }

  private cancelTicket(nodeId: string, ticketId: string, reason: string): void {
    this.peers
      .cancelTicket(nodeId, { ticketId, requesterId: this.nodeId, reason })
      .catch((err: Error) => this.log.debug({ err: err.message }, 'cancel not delivered'));
  }

  /**
   * The relay lost its upstream: get a new ticket that excludes the lost node (see failoverExclusion:
   * never the source, and not on the retries, `excludeLost` false) and re-point the relay.
   */
  async upstreamLost(
    streamId: string,
    lostNodeId: string | undefined,
    reason: string,
    cancelOld = true,
    excludeLost = true,
  ): Promise<void> {
    const c = this.carried.get(streamId);
    if (!c || c.origin !== 'upstream' || this.leaving || this.failovers.has(streamId)) return;
    this.failovers.add(streamId);
    const started = Date.now();
    try {
      const lost = lostNodeId ?? c.upstreamNodeId;
      const oldTicket = c.ticketId;
      const stream = await this.directory.getStream({ streamId });
      if (stream.status !== 'live') {
        await this.stopWatching(streamId);
        return;
      }
      // Make before break: the old upstream (if it is only leaving) keeps serving until the relay has
      // switched; only then is the old ticket cancelled.
      const next = await this.acquire(stream, failoverExclusion(lost, stream.sourceNodeId, excludeLost));
      if (cancelOld && lost && oldTicket) this.cancelTicket(lost, oldTicket, `re-parented: ${reason}`);
      const recoveryMs = Date.now() - started;
      this.log.info(
        { streamId, lostNodeId: lost, upstreamNodeId: next.upstreamNodeId, recoveryMs, reason },
        'upstream switched',
      );
      this.events.publish({
        type: 'upstream-switched',
        streamId,
        from: lost ?? null,
        to: next.upstreamNodeId ?? '',
        recoveryMs,
      });
    } catch (err) {
      this.log.warn({ streamId, err: (err as Error).message }, 'failover failed; trying again in 1 s');
      this.retryFailover(streamId, lostNodeId, reason);
    } finally {
      this.failovers.delete(streamId);
    }
  }

  /** Keeps trying while the node still wants the stream (Redis may be restarting, peers re-homing). */
  private retryFailover(streamId: string, lostNodeId: string | undefined, reason: string): void {
    setTimeout(() => {
      if (!this.leaving && this.carried.get(streamId)?.origin === 'upstream')
        void this.upstreamLost(streamId, lostNodeId, reason, true, false);
    }, 1000).unref();
  }

  async stopWatching(streamId: string): Promise<boolean> {
    const c = this.carried.get(streamId);
    if (!c || c.origin !== 'upstream') return false;
    this.carried.delete(streamId);
    await this.tickets.endStream(streamId, 'the upstream node stopped watching');
    if (c.upstreamNodeId && c.ticketId) {
      this.cancelTicket(c.upstreamNodeId, c.ticketId, 'stopped watching');
    }
    await this.relayLink.relay.closeUpstream({ streamId }).catch(() => undefined);
    await this.directory
      .carrying({ streamId, nodeId: this.nodeId, hops: c.hops, carrying: false })
      .catch(() => undefined);
    return true;
  }

  private async replayToRelay(): Promise<void> {
    for (const [streamId, keyHash] of this.keyHashes)
      await this.relayLink.relay.authorizePublish({ streamId, keyHash });
    // A relay that restarted lost its pulls: open them again on the tickets this node still holds.
    for (const c of this.carried.all()) {
      if (c.origin !== 'upstream' || !c.upstreamNodeId || !c.forwardUrl || this.failovers.has(c.streamId))
        continue;
      await this.relayLink.relay.openUpstream({
        streamId: c.streamId,
        upstreamNodeId: c.upstreamNodeId,
        url: c.forwardUrl,
      });
      this.log.info(
        { streamId: c.streamId, upstreamNodeId: c.upstreamNodeId },
        'relay restarted: pull opened again',
      );
    }
  }

  /**
   * Graceful leave, before the transports close: downstream tickets first (children re-parent while
   * our relay still serves), then our own upstream tickets, then the directory.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.leaving = true;
    clearInterval(this.heartbeatTimer);
    await this.tickets.drain('leaving', 3000);
    for (const c of this.carried.all()) {
      if (c.origin === 'upstream' && c.upstreamNodeId && c.ticketId)
        this.cancelTicket(c.upstreamNodeId, c.ticketId, 'leaving');
    }
    await this.membership.leave();
    await this.directoryLink.leave();
  }
}
