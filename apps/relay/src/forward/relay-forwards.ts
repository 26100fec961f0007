import { ServerResponse } from 'node:http';
import { AdmitForward, AstralError } from '@astral/contracts';
import { Logger } from '@astral/config';
import { StreamHub } from '../hub/stream-hub';
import { RelayCounters } from '../metrics/relay-metrics';
import { TellAgent } from '../agent-link';
import { DEFAULT_FORWARD_LIMITS, ForwardConnection } from './forward-connection';
import { ForwardRegistry } from './forward-registry';
import { SendQueueProbe } from './send-queue-probe';
import { UploadBudget } from './upload-budget';
import { sendJson } from './send-json';

export interface RelayForwardsDeps {
  nodeId: string;
  budget: UploadBudget;
  sendQueues: SendQueueProbe;
  counters: RelayCounters;
  log: Logger;
  tell: TellAgent;
  /** The relay is shutting down: new forwards are refused. */
  leaving: () => boolean;
  /** The hub of a stream on this relay, if it is here. */
  hubOf: (streamId: string) => StreamHub | undefined;
}

/** The relay's forwards to downstream relays: admissions, the forward requests, and closing them. */
export class RelayForwards {
  private readonly registry = new ForwardRegistry<ForwardConnection>();
  /** Tags dropped by forward connections that have closed since. */
  private droppedByClosed = 0;

  constructor(private readonly deps: RelayForwardsDeps) {}

  admit(msg: AdmitForward): void {
    this.registry.admit(msg.token, {
      ticketId: msg.ticketId,
      streamId: msg.streamId,
      downstreamNodeId: msg.downstreamNodeId,
    });
  }

  revoke(ticketId: string, reason: string): boolean {
    this.registry.revoke(ticketId);
    return this.close(ticketId, reason);
  }

  close(ticketId: string, reason: string): boolean {
    const open = this.registry.get(ticketId);
    if (!open) return false;
    this.deps.hubOf(open.streamId)?.detach(open.conn);
    // Tell the downstream relay why, so it can re-parent without waiting for a stall.
    open.conn.closeWithReason(reason);
    return true;
  }

  /** Closes the forwards of one stream (its end), with the reason. */
  closeStream(streamId: string, reason: string): void {
    for (const ticketId of this.registry.ticketsOf(streamId)) this.close(ticketId, reason);
  }

  closeAll(reason: string): void {
    for (const ticketId of this.registry.tickets()) this.close(ticketId, reason);
  }

  /** Resolves once every open forward's socket has closed, or after timeoutMs. */
  allClosed(timeoutMs: number): Promise<void> {
    return Promise.all(this.registry.all().map((conn) => conn.closed$(timeoutMs))).then(() => undefined);
  }

  forwardsOf(streamId: string): ForwardConnection[] {
    return this.registry.forwardsOf(streamId);
  }

  countOf(streamId: string): number {
    return this.registry.countOf(streamId);
  }

  get count(): number {
    return this.registry.size;
  }

  /** Tags dropped so far by every forward, open or closed. */
  get droppedTags(): number {
    let dropped = this.droppedByClosed;
    for (const conn of this.registry.all()) dropped += conn.droppedTags;
    return dropped;
  }

  /** GET /forward/<streamId>.flv?ticket=<token> on the forward port. */
  serve(streamId: string, token: string | null, res: ServerResponse, remote: string): void {
    const { log, counters } = this.deps;
    const admission = token ? this.registry.admission(token) : undefined;
    if (!admission || admission.streamId !== streamId) {
      counters.forwardsRefused += 1;
      log.warn(
        { streamId, remote, reason: token ? 'unknown or revoked ticket' : 'no ticket' },
        'forward refused',
      );
      sendJson(
        res,
        403,
        new AstralError('forbidden', 'a confirmed ticket for this stream is required (?ticket=…)').toBody(),
      );
      return;
    }
    const hub = this.deps.hubOf(streamId);
    if (!hub) {
      sendJson(res, 404, new AstralError('not-found', `stream ${streamId} is not on this relay`).toBody());
      return;
    }
    if (this.deps.leaving()) {
      sendJson(res, 503, new AstralError('unavailable', 'relay is leaving').toBody());
      return;
    }
    const socket = res.socket;
    if (!socket) {
      res.destroy();
      return;
    }
    const { ticketId, downstreamNodeId } = admission;
    this.close(ticketId, 'replaced by a new connection for the same ticket');
    // Send the response head, then own the socket: the body is the FLV byte stream, delimited by the
    // connection's close (no chunked framing), written tag by tag straight to the socket.
    res.useChunkedEncodingByDefault = false;
    res.shouldKeepAlive = false;
    res.writeHead(200, { 'Content-Type': 'video/x-flv', 'Cache-Control': 'no-store', Connection: 'close' });
    res.flushHeaders();
    socket.setNoDelay(true);
    const conn = new ForwardConnection(
      ticketId,
      downstreamNodeId,
      socket,
      this.deps.budget,
      DEFAULT_FORWARD_LIMITS,
      Date.now,
      this.deps.sendQueues,
    );
    this.registry.add(ticketId, streamId, conn);
    const ids = { streamId, ticketId, downstreamNodeId };
    conn.onCutback = (why, dropped) => {
      counters.cutbacks += 1;
      log.warn({ ...ids, why, dropped }, 'forward lagging: cut back to the next keyframe');
    };
    conn.onClose = (reason, kind) => {
      hub.detach(conn);
      this.droppedByClosed += conn.droppedTags;
      if (kind === 'lagging') counters.forwardsDisconnectedLagging += 1;
      this.registry.remove(ticketId, conn);
      const line = kind === 'lagging' ? log.warn.bind(log) : log.info.bind(log);
      line({ ...ids, reason, bytesSent: conn.bytesSent, droppedTags: conn.droppedTags }, 'forward closed');
      this.deps.tell('forward closed', (n) =>
        n.forwardClosed({ nodeId: this.deps.nodeId, ticketId, reason }),
      );
    };
    conn.start(hub.attach(conn));
    log.info(ids, 'forward opened');
  }
}
