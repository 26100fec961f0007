import { Inject, Injectable } from '@nestjs/common';
import { TicketEnded } from '@astral/contracts';
import { Logger } from '@astral/config';
import { failoverExclusion } from '@astral/overlay';
import { AGENT_LOGGER } from '../agent.tokens';
import { DirectoryLink } from '../directory/directory-link.service';
import { CarriedStreams } from '../streams/carried-streams';
import { WatchService } from '../streams/watch.service';
import { TicketAcquisition } from '../upstream/ticket-acquisition.service';
import { AgentEvents } from '../events/agent-events';
import { NodeLeaving } from '../leave/node-leaving';
import { FAILOVER_RETRY_MS, shouldRetryFailover, shouldStartFailover } from './failover-decision';

/** Re-parents a stream whose upstream was lost: a new ticket elsewhere, make before break, retried until it holds. */
@Injectable()
export class FailoverService {
  private readonly failovers = new Set<string>();

  constructor(
    @Inject(AGENT_LOGGER) private readonly log: Logger,
    private readonly carried: CarriedStreams,
    private readonly directoryLink: DirectoryLink,
    private readonly watching: WatchService,
    private readonly acquisition: TicketAcquisition,
    private readonly events: AgentEvents,
    private readonly leave: NodeLeaving,
  ) {}

  private get directory() {
    return this.directoryLink.directory;
  }

  /** Whether a failover for the stream is running (its upstream is being replaced). */
  inProgress(streamId: string): boolean {
    return this.failovers.has(streamId);
  }

  /** The upstream ended our ticket (it is leaving, or revoked it): re-parent now. */
  async ticketEnded(msg: TicketEnded): Promise<void> {
    const c = this.carried.get(msg.streamId);
    if (!c || c.ticketId !== msg.ticketId) return;
    // No cancel afterwards: the upstream ended the ticket itself, and keeps serving until our relay
    // has switched and dropped its pull (make before break).
    await this.upstreamLost(msg.streamId, msg.nodeId, `upstream ended the ticket: ${msg.reason}`, false);
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
    const inProgress = this.failovers.has(streamId);
    if (!c || !shouldStartFailover({ carried: c, leaving: this.leave.leaving, inProgress })) return;
    this.failovers.add(streamId);
    const started = Date.now();
    try {
      const lost = lostNodeId ?? c.upstreamNodeId;
      const oldTicket = c.ticketId;
      const stream = await this.directory.getStream({ streamId });
      if (stream.status !== 'live') {
        await this.watching.stopWatching(streamId);
        return;
      }
      // Make before break: the old upstream (if it is only leaving) keeps serving until the relay has
      // switched; only then is the old ticket cancelled.
      const next = await this.acquisition.acquire(
        stream,
        failoverExclusion(lost, stream.sourceNodeId, excludeLost),
      );
      if (cancelOld && lost && oldTicket) this.acquisition.cancel(lost, oldTicket, `re-parented: ${reason}`);
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
      if (shouldRetryFailover({ carried: this.carried.get(streamId), leaving: this.leave.leaving }))
        void this.upstreamLost(streamId, lostNodeId, reason, true, false);
    }, FAILOVER_RETRY_MS).unref();
  }
}
