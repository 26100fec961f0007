import { ServerResponse } from 'node:http';
import { AdmitForward, AstralError } from '@astral/contracts';
import { Logger } from '@astral/config';
import { FORWARD_PROOF_WINDOW_MS, ReplayGuard } from '@astral/identity';
import { StreamHub } from '../hub/stream-hub';
import { RelayCounters } from '../metrics/relay-metrics';
import { TellAgent } from '../agent-link';
import { DEFAULT_FORWARD_LIMITS, ForwardConnection } from './forward-connection';
import { ForwardRegistry } from './forward-registry';
import { SendQueueProbe } from './send-queue-probe';
import { UploadBudget } from './upload-budget';
import { sendJson } from './send-json';
import { FORWARD_REFUSALS, verifyForwardPull } from './forward-admission';

/** Proof nonces remembered at once (30 s of them); past it, pulls are refused as busy. */
const PROOF_NONCES_MAX = 50_000;

export interface RelayForwardsDeps {
  nodeId: string;
  /** This node's public key: the ticket tokens its agent signs are checked with it. */
  publicKey: string;
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
  private readonly proofs = new ReplayGuard(FORWARD_PROOF_WINDOW_MS, PROOF_NONCES_MAX);
  /** Forwards being replaced by a new connection of the same ticket: their close does not end the ticket. */
  private readonly replaced = new WeakSet<ForwardConnection>();

  constructor(private readonly deps: RelayForwardsDeps) {}

  admit(msg: AdmitForward): void {
    this.registry.admit({
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

  /**
   * GET /forward/<streamId>.flv?ticket=<token> with X-Astral-Proof on the forward port: the token must be
   * this node's signature of a live ticket for the stream, the proof its downstream's (forward-admission.ts).
   */
  serve(
    streamId: string,
    token: string | null,
    proof: string | string[] | undefined,
    res: ServerResponse,
    remote: string,
  ): void {
    const { log, counters } = this.deps;
    const verdict = verifyForwardPull(
      { streamId, token, proof },
      {
        nodeId: this.deps.nodeId,
        publicKey: this.deps.publicKey,
        admission: (ticketId) => this.registry.admission(ticketId),
        proofs: this.proofs,
        now: Date.now(),
      },
    );
    if (!verdict.ok) {
      counters.forwardsRefused += 1;
      // Never the token or the proof: the ticket id only once the signature held (then it is ours).
      log.warn({ streamId, remote, reason: verdict.reason }, 'forward refused');
      sendJson(
        res,
        403,
        new AstralError(
          'forbidden',
          `forward refused (${verdict.reason}): ${FORWARD_REFUSALS[verdict.reason]}`,
        ).toBody(),
      );
      return;
    }
    const admission = verdict.admission;
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
    const previous = this.registry.get(ticketId);
    if (previous) this.replaced.add(previous.conn);
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
      if (this.replaced.has(conn)) return;
      // The ticket ends with its forward: its token cannot open another one (the downstream re-parents).
      this.registry.revoke(ticketId);
      this.deps.tell('forward closed', (n) =>
        n.forwardClosed({ nodeId: this.deps.nodeId, ticketId, reason }),
      );
    };
    conn.start(hub.attach(conn));
    log.info(ids, 'forward opened');
  }
}
