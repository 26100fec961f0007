import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { AstralError, CarriedStream, CarrierInfo, StreamInfo, TicketOffer } from '@astral/contracts';
import { PeerClient } from '@astral/transport';
import { Logger, NodeConfig, SeedNode, parseSeeds } from '@astral/config';
import { NodeKeys } from '@astral/identity';
import { candidateOrder, candidateWindow, selectOffer } from '@astral/overlay';
import { AGENT_CLIENT, AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID, AGENT_NODE_KEYS } from '../agent.tokens';
import { DirectoryLink } from '../directory/directory-link.service';
import { RelayLink } from '../relay/relay-link.service';
import { TicketsService } from '../tickets/tickets.service';
import { measureRtt } from '../tickets/rtt';
import { CarriedStreams } from '../streams/carried-streams';
import { MembershipService } from '../membership/membership.service';
import { AgentEvents } from '../events/agent-events';
import { NodeLeaving } from '../leave/node-leaving';
import {
  PeerListing,
  acquireBackoffMs,
  confirmRefusal,
  forwardUrlOf,
  listedAddressOf,
  offerRefusal,
  sortTicketReplies,
} from './ticket-replies';

/** How long a watch request keeps trying to get a ticket before it gives up. */
const WATCH_DEADLINE_MS = 10_000;
/** After this long without a ticket, a node that cannot forward may take a forwarder's last slots. */
const PATIENT_AFTER_MS = 5_000;

/** Gets a ticket for a stream from an upstream (offers, selection, confirm), and cancels the ones not kept. */
@Injectable()
export class TicketAcquisition {
  private readonly peers: PeerClient;
  /** For look-ups that have a fallback: a dead peer costs 400 ms, not a full timeout. */
  private readonly shortPeers: PeerClient;
  /** The operator's static seeds: their addresses count as listings, as the directory's do. */
  private readonly seeds: SeedNode[];

  constructor(
    @Inject(AGENT_CLIENT) client: ClientProxy,
    @Inject(AGENT_CONFIG) config: NodeConfig,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
    @Inject(AGENT_NODE_KEYS) private readonly keys: NodeKeys,
    private readonly carried: CarriedStreams,
    private readonly directoryLink: DirectoryLink,
    private readonly relayLink: RelayLink,
    private readonly tickets: TicketsService,
    private readonly membership: MembershipService,
    private readonly events: AgentEvents,
    private readonly leave: NodeLeaving,
  ) {
    this.peers = new PeerClient(client, 1000);
    this.shortPeers = new PeerClient(client, 400);
    this.seeds = parseSeeds(config.seeds);
  }

  /** Where `nodeId` may be reached: the directory's listing (asked again with `fresh`) and its seed entry. */
  private async listingsOf(nodeId: string, fresh: boolean): Promise<PeerListing[]> {
    const listed = await this.directoryLink.nodeInfo(nodeId, fresh).catch((err: Error) => {
      this.log.debug({ err: err.message, nodeId }, 'directory did not list the node');
      return undefined;
    });
    const listings: PeerListing[] = listed
      ? [{ host: listed.host, forwardPort: listed.forwardPort, publicKey: listed.publicKey }]
      : [];
    for (const s of this.seeds)
      if (s.nodeId === nodeId) listings.push({ host: s.host, forwardPort: s.forwardPort, publicKey: null });
    return listings;
  }

  /**
   * The offers we believe, with the listing each matched; the others are cancelled, logged and given as
   * reasons. A listing that disagrees is asked for again once (the node may have re-registered).
   */
  private async believable(
    stream: StreamInfo,
    offers: TicketOffer[],
    reasons: string[],
  ): Promise<{ offer: TicketOffer; listing: PeerListing }[]> {
    const kept: { offer: TicketOffer; listing: PeerListing }[] = [];
    await Promise.all(
      offers.map(async (offer) => {
        let listings = await this.listingsOf(offer.nodeId, false);
        let why = offerRefusal(offer, stream.streamId, stream.sourceNodeId, listings);
        if (why !== null) {
          listings = await this.listingsOf(offer.nodeId, true);
          why = offerRefusal(offer, stream.streamId, stream.sourceNodeId, listings);
        }
        const listing = listedAddressOf(offer, listings);
        if (why === null && listing) {
          kept.push({ offer, listing });
          return;
        }
        this.log.warn(
          { streamId: stream.streamId, offeringNodeId: offer.nodeId, reason: why },
          'ticket offer refused',
        );
        reasons.push(`${offer.nodeId.slice(0, 8)}: refused its offer: ${why}`);
        this.cancel(offer.nodeId, offer.ticketId, `offer refused: ${why}`);
      }),
    );
    return kept;
  }

  private get directory() {
    return this.directoryLink.directory;
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
  async acquire(stream: StreamInfo, exclude: Set<string>, seed = false): Promise<CarriedStream> {
    const started = Date.now();
    const deadline = started + WATCH_DEADLINE_MS;
    let lastReason = 'no candidates';
    for (let attempt = 0; Date.now() < deadline && !this.leave.leaving; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, acquireBackoffMs(attempt)));
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
      const sorted = sortTicketReplies(asked, replies);
      const reasons = sorted.reasons;
      const believed = await this.believable(stream, sorted.offers, reasons);
      const offers = believed.map((b) => b.offer);
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
      for (const o of rejected) this.cancel(o.nodeId, o.ticketId, 'another offer was chosen');
      if (!chosen) {
        lastReason = 'every offer would make a loop';
        continue;
      }
      try {
        const confirmed = await this.peers.confirmTicket(chosen.nodeId, {
          ticketId: chosen.ticketId,
          requesterId: this.nodeId,
        });
        const listing = believed.find((b) => b.offer === chosen)!.listing;
        const refused = confirmRefusal(confirmed, {
          ticketId: chosen.ticketId,
          streamId: stream.streamId,
          upstreamNodeId: chosen.nodeId,
          nodeId: this.nodeId,
          publicKey: this.keys.publicKey,
          upstreamKey: listing.publicKey,
          now: Date.now(),
        });
        if (refused !== null) throw new AstralError('forbidden', refused);
        // Built here from the listing, never taken from the peer.
        const forwardUrl = forwardUrlOf(listing, stream.streamId, confirmed.token);
        await this.relayLink.relay.openUpstream({
          streamId: stream.streamId,
          upstreamNodeId: chosen.nodeId,
          ticketId: chosen.ticketId,
          url: forwardUrl,
        });
        const carried: CarriedStream = {
          streamId: stream.streamId,
          origin: 'upstream',
          path: [...chosen.path, this.nodeId],
          hops: chosen.hops,
          upstreamNodeId: chosen.nodeId,
          ticketId: chosen.ticketId,
          forwardUrl,
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
        this.cancel(chosen.nodeId, chosen.ticketId, 'confirm failed');
      }
    }
    throw new AstralError(
      'no-capacity',
      `no node could forward stream ${stream.streamId} within ${WATCH_DEADLINE_MS / 1000} s (${lastReason})`,
    );
  }

  /** Tells an upstream we no longer want a ticket it granted; best effort. */
  cancel(nodeId: string, ticketId: string, reason: string): void {
    this.peers
      .cancelTicket(nodeId, { ticketId, requesterId: this.nodeId, reason })
      .catch((err: Error) => this.log.debug({ err: err.message }, 'cancel not delivered'));
  }
}
