import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { PeerClient } from '@astral/transport';
import { Logger, NodeConfig } from '@astral/config';
import { pathBelow, samePath } from '@astral/overlay';
import { AGENT_CLIENT, AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID } from '../agent.tokens';
import { DirectoryLink } from '../directory/directory-link.service';
import { CarriedStreams } from '../streams/carried-streams';
import { RedisHealth } from '../redis/redis-health';
import { FailoverService } from '../failover/failover.service';
import { HeartbeatMisses } from './heartbeat-misses';
import { withTicketToken } from './ticket-replies';

/** Heartbeats to the upstreams of the tickets this node holds, and the upstream paths their replies carry. */
@Injectable()
export class UpstreamHeartbeat {
  /** Heartbeats may take two intervals on a busy machine before they count as missed. */
  private readonly heartbeatPeers: PeerClient;
  private readonly misses = new HeartbeatMisses();
  private readonly timer: NodeJS.Timeout;

  constructor(
    @Inject(AGENT_CLIENT) client: ClientProxy,
    @Inject(AGENT_CONFIG) config: NodeConfig,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
    private readonly carried: CarriedStreams,
    private readonly directoryLink: DirectoryLink,
    private readonly redisHealth: RedisHealth,
    private readonly failover: FailoverService,
  ) {
    this.heartbeatPeers = new PeerClient(client, 2 * config.peerHeartbeatMs);
    this.timer = setInterval(() => this.heartbeatUpstreams(), config.peerHeartbeatMs);
  }

  /** No more heartbeats: the node is leaving. */
  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Heartbeats for the tickets this node holds; the upstream's answer is its heartbeat back. Three
   * misses, or an upstream that no longer knows the ticket, count as a lost upstream.
   */
  private heartbeatUpstreams(): void {
    const held = new Set<string>();
    for (const c of this.carried.all()) if (c.ticketId) held.add(c.ticketId);
    this.misses.keepOnly(held);
    for (const c of this.carried.all()) {
      if (c.origin !== 'upstream' || !c.upstreamNodeId || !c.ticketId || this.failover.inProgress(c.streamId))
        continue;
      const { streamId, upstreamNodeId, ticketId } = c;
      this.heartbeatPeers.ticketHeartbeat(upstreamNodeId, { ticketId, requesterId: this.nodeId }).then(
        (reply) => {
          this.misses.answered(ticketId);
          if ('unknown' in reply)
            void this.failover.upstreamLost(
              streamId,
              upstreamNodeId,
              'the upstream no longer knows our ticket',
            );
          else {
            if (reply.token !== undefined) this.keepFreshToken(streamId, ticketId, reply.token);
            if (reply.path !== undefined)
              this.followUpstreamPath(streamId, ticketId, upstreamNodeId, reply.path);
          }
        },
        () => {
          if (!this.redisHealth.peersAccountable()) return;
          if (this.misses.missed(ticketId))
            void this.failover.upstreamLost(
              streamId,
              upstreamNodeId,
              'ticket expired: the upstream missed 3 heartbeats',
            );
        },
      );
    }
  }

  /**
   * A fresh token for the ticket, from its heartbeat reply: kept in the forward URL, so the pull opened
   * again after our relay restarts shows a token that has not expired.
   */
  private keepFreshToken(streamId: string, ticketId: string, token: string): void {
    const c = this.carried.get(streamId);
    if (!c || c.ticketId !== ticketId || !c.forwardUrl) return;
    this.carried.set({ ...c, forwardUrl: withTicketToken(c.forwardUrl, token) });
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
    if (!c || c.ticketId !== ticketId || this.failover.inProgress(streamId)) return;
    const below = pathBelow(upstreamPath, this.nodeId);
    if (below === null) {
      this.log.warn(
        { streamId, upstreamNodeId },
        'ignored a malformed upstream path in a ticket heartbeat reply',
      );
      return;
    }
    if ('loop' in below) {
      void this.failover.upstreamLost(
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
      this.directoryLink.directory
        .carrying({ streamId, nodeId: this.nodeId, hops: below.hops, carrying: true })
        .catch((err: Error) =>
          this.log.debug({ err: err.message, streamId }, 'hop count not sent to the directory'),
        );
    }
  }
}
