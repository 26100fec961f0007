import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { ServerResponse } from 'node:http';
import {
  AdmitForward,
  AstralError,
  OpenUpstream,
  RelayStats,
  RelayStreamStats,
} from '@astral/contracts';
import { AgentNotifier } from '@astral/transport';
import { Logger, NodeConfig, nodeListenerLimits } from '@astral/config';
import { FlvTagType, isMetadata, isSequenceHeader } from '@astral/media';
import { StreamHub, StreamOrigin } from './hub/stream-hub';
import { DEFAULT_FORWARD_LIMITS, ForwardConnection } from './forward/forward-connection';
import { UploadBudget } from './forward/upload-budget';
import { SendQueueProbe } from './forward/send-queue-probe';
import { MediaServer } from './media-server/media-server';
import { LocalTap } from './upstream/local-tap';
import { UpstreamClient } from './upstream/upstream-client';
import { LocalRepublisher } from './upstream/local-republisher';
import { RelayCounters, RelayMetrics, RelayMetricsSnapshot } from './metrics/relay-metrics';
import { RELAY_CLIENT, RELAY_LOGGER, RELAY_NODE_CONFIG, RELAY_NODE_ID } from './relay.tokens';

interface StreamEntry {
  hub: StreamHub;
  tap: LocalTap | null;
  upstream: UpstreamClient | null;
  republisher: LocalRepublisher | null;
  /** The directory was told the stream is live (a local publish whose media has started flowing). */
  announced: boolean;
}

interface Admission {
  ticketId: string;
  streamId: string;
  downstreamNodeId: string;
}

const STATS_INTERVAL_MS = 1000;
/** How long a leaving relay waits for its close tags to reach the downstream relays. */
const LEAVE_FLUSH_MS = 1000;

/** The relay's data plane: streams, forwards, upstreams and the upload budget. */
@Injectable()
export class RelayService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly streams = new Map<string, StreamEntry>();
  private readonly admissions = new Map<string, Admission>();
  private readonly forwards = new Map<string, ForwardConnection>();
  private readonly forwardStream = new Map<string, string>();
  readonly budget: UploadBudget;
  readonly media: MediaServer;
  private readonly notifier: AgentNotifier;
  private statsTimer: NodeJS.Timeout | null = null;
  private egressSample = { at: Date.now(), bytes: 0, bps: 0 };
  private leaving = false;
  /** Plain counters, read by /metrics and the stats; nothing on the hot path touches prom-client. */
  private readonly counters: RelayCounters = {
    egressBytes: 0,
    droppedTags: 0,
    upstreamSwitches: 0,
    upstreamsLost: 0,
    publishesRefused: 0,
    forwardsRefused: 0,
    cutbacks: 0,
    forwardsDisconnectedLagging: 0,
  };
  /** Tags dropped by forward connections that have closed since. */
  private droppedByClosed = 0;
  readonly metrics: RelayMetrics;
  private readonly sendQueues = new SendQueueProbe();

  constructor(
    @Inject(RELAY_NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(RELAY_NODE_ID) readonly nodeId: string,
    @Inject(RELAY_LOGGER) private readonly log: Logger,
    @Inject(RELAY_CLIENT) client: ClientProxy,
  ) {
    this.budget = new UploadBudget(config.uploadLimitBps ?? null);
    this.notifier = new AgentNotifier(client, nodeId);
    this.media = new MediaServer(
      {
        host: config.host,
        rtmpPort: config.rtmpPort,
        httpPort: config.httpPort,
        dataDir: config.dataDir,
        limits: nodeListenerLimits(config),
        playerQueueBytes: config.playerQueueBytes,
        publishGraceMs: config.publishGraceMs,
      },
      log,
      {
        onPublishStart: (streamId) => this.onLocalPublish(streamId),
        onPublishEnd: (streamId) => this.onLocalPublishEnd(streamId),
        onPublishRefused: () => {
          this.counters.publishesRefused += 1;
        },
      },
    );
    this.metrics = new RelayMetrics(nodeId, () => this.metricsSnapshot());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.media.start();
    this.statsTimer = setInterval(() => this.reportStats(), STATS_INTERVAL_MS);
  }

  /** Called once the Redis listener is subscribed: the agent may now replay its state to us. */
  announceReady(): void {
    this.notify(() => this.notifier.ready({ nodeId: this.nodeId }), 'ready');
  }

  /**
   * Tells downstream relays we are leaving (a close tag with the reason 'leaving' on every forward), so
   * they re-parent at once instead of waiting for a stall, and waits briefly for those tags to leave.
   * Runs before the forward server closes its sockets.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.leaving = true;
    const closing = [...this.forwards.values()].map((conn) => conn.closed$(LEAVE_FLUSH_MS));
    for (const [ticketId] of this.forwards) this.closeForward(ticketId, 'leaving');
    await Promise.all(closing);
  }

  async onApplicationShutdown(): Promise<void> {
    this.leaving = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
    for (const [ticketId] of this.forwards) this.closeForward(ticketId, 'leaving');
    for (const [streamId] of this.streams) this.dropStream(streamId, 'relay shutting down');
    this.budget.close();
    this.sendQueues.stop();
    await this.media.stop();
  }

  private notify(call: () => Promise<void>, what: string): void {
    call().catch((err: Error) => this.log.warn({ err: err.message }, `could not tell the agent: ${what}`));
  }

  // ---- streams -------------------------------------------------------------------------------

  private ensureStream(streamId: string, origin: StreamOrigin): StreamEntry {
    let entry = this.streams.get(streamId);
    if (!entry) {
      entry = { hub: new StreamHub(streamId, origin), tap: null, upstream: null, republisher: null, announced: false };
      this.streams.set(streamId, entry);
    }
    return entry;
  }

  private onLocalPublish(streamId: string): void {
    const existing = this.streams.get(streamId);
    if (existing?.tap) return; // the same publisher resumed
    if (existing) this.dropStream(streamId, 'replaced by a local publish');
    const entry = this.ensureStream(streamId, 'publish');
    entry.tap = new LocalTap(
      this.media.streamPath(streamId),
      () => this.media.broadcast(streamId),
      (tag, wire) => {
        entry.hub.ingest(tag, Date.now(), wire);
        // The stream is live once media flows, not when a publisher merely connected.
        if (!entry.announced && (tag.type === FlvTagType.Audio || tag.type === FlvTagType.Video) && this.streams.get(streamId) === entry) {
          entry.announced = true;
          this.log.info({ streamId }, 'local publish is live');
          this.notify(() => this.notifier.streamLive({ nodeId: this.nodeId, streamId, origin: 'publish' }), 'stream live');
        }
      },
      this.log.child({ streamId }),
    );
    // Let node-media-server register the publisher before we attach as a player.
    setImmediate(() => entry.tap?.start());
    this.log.info({ streamId }, 'local publish started');
  }

  private onLocalPublishEnd(streamId: string): void {
    const entry = this.streams.get(streamId);
    if (!entry || entry.hub.origin !== 'publish') return;
    this.dropStream(streamId, 'the publisher stopped');
    // A publisher that never sent media never made the stream live: nothing to end.
    if (!entry.announced) return;
    this.notify(() => this.notifier.streamEnded({ nodeId: this.nodeId, streamId, origin: 'publish' }), 'stream ended');
  }

  private dropStream(streamId: string, reason: string): void {
    const entry = this.streams.get(streamId);
    if (!entry) return;
    this.streams.delete(streamId);
    entry.tap?.close();
    entry.upstream?.close();
    entry.republisher?.close(reason);
    for (const [ticketId, sid] of this.forwardStream) if (sid === streamId) this.closeForward(ticketId, reason);
    entry.hub.close(reason);
  }

  authorizePublish(streamId: string, keyHash: string): void {
    this.media.authorize(streamId, keyHash);
  }

  /** Pulls a stream from an upstream relay, or switches an existing pull to a new upstream. */
  openUpstream(msg: OpenUpstream): void {
    if (this.leaving) throw new AstralError('unavailable', 'relay is shutting down');
    const existing = this.streams.get(msg.streamId);
    if (existing && existing.hub.origin === 'publish') {
      throw new AstralError('conflict', `stream ${msg.streamId} is published on this node; it has no upstream`);
    }
    const entry = this.ensureStream(msg.streamId, 'upstream');
    if (entry.upstream) this.counters.upstreamSwitches += 1;
    if (!entry.upstream) {
      const log = this.log.child({ streamId: msg.streamId });
      entry.upstream = new UpstreamClient(msg.streamId, this.config.stallMs, {
        onTag: (tag) => {
          // A switch re-sends the same headers: pass on only real changes.
          if ((isSequenceHeader(tag) || isMetadata(tag)) && entry.hub.hasSameHeader(tag)) return;
          entry.hub.ingest(tag);
        },
        onLost: (reason, lostNodeId) => {
          this.counters.upstreamsLost += 1;
          if (this.leaving) return;
          this.notify(
            () =>
              this.notifier.upstreamLost({
                nodeId: this.nodeId,
                streamId: msg.streamId,
                upstreamNodeId: lostNodeId,
                reason,
              }),
            'upstream lost',
          );
        },
      }, log);
      entry.republisher = new LocalRepublisher(() => this.media.openLocalPublish(msg.streamId), () => entry.hub.gop.joinSequence(), log);
      entry.hub.attach(entry.republisher);
      entry.republisher.start();
      this.notify(() => this.notifier.streamLive({ nodeId: this.nodeId, streamId: msg.streamId, origin: 'upstream' }), 'stream live');
    }
    entry.hub.upstreamNodeId = msg.upstreamNodeId;
    entry.upstream.connect(msg.url, msg.upstreamNodeId);
    this.log.info({ streamId: msg.streamId, upstreamNodeId: msg.upstreamNodeId }, 'pulling from upstream');
  }

  closeUpstream(streamId: string): boolean {
    const entry = this.streams.get(streamId);
    if (!entry || entry.hub.origin !== 'upstream') return false;
    this.dropStream(streamId, 'the node stopped watching');
    this.notify(() => this.notifier.streamEnded({ nodeId: this.nodeId, streamId, origin: 'upstream' }), 'stream ended');
    return true;
  }

  // ---- forwards ------------------------------------------------------------------------------

  admitForward(msg: AdmitForward): void {
    this.admissions.set(msg.token, { ticketId: msg.ticketId, streamId: msg.streamId, downstreamNodeId: msg.downstreamNodeId });
  }

  revokeForward(ticketId: string, reason: string): boolean {
    for (const [token, a] of this.admissions) if (a.ticketId === ticketId) this.admissions.delete(token);
    return this.closeForward(ticketId, reason);
  }

  private closeForward(ticketId: string, reason: string): boolean {
    const conn = this.forwards.get(ticketId);
    if (!conn) return false;
    const streamId = this.forwardStream.get(ticketId);
    const entry = streamId ? this.streams.get(streamId) : undefined;
    entry?.hub.detach(conn);
    // Tell the downstream relay why, so it can re-parent without waiting for a stall.
    conn.closeWithReason(reason);
    return true;
  }

  /** GET /forward/<streamId>.flv?ticket=<token> on the forward port. */
  serveForward(streamId: string, token: string | null, res: ServerResponse, remote: string): void {
    const admission = token ? this.admissions.get(token) : undefined;
    if (!admission || admission.streamId !== streamId) {
      this.counters.forwardsRefused += 1;
      this.log.warn({ streamId, remote, reason: token ? 'unknown or revoked ticket' : 'no ticket' }, 'forward refused');
      sendJson(res, 403, new AstralError('forbidden', 'a confirmed ticket for this stream is required (?ticket=…)').toBody());
      return;
    }
    const entry = this.streams.get(streamId);
    if (!entry) {
      sendJson(res, 404, new AstralError('not-found', `stream ${streamId} is not on this relay`).toBody());
      return;
    }
    if (this.leaving) {
      sendJson(res, 503, new AstralError('unavailable', 'relay is leaving').toBody());
      return;
    }
    const socket = res.socket;
    if (!socket) {
      res.destroy();
      return;
    }
    this.closeForward(admission.ticketId, 'replaced by a new connection for the same ticket');
    // Send the response head, then own the socket: the body is the FLV byte stream, delimited by the
    // connection's close (no chunked framing), written tag by tag straight to the socket.
    res.useChunkedEncodingByDefault = false;
    res.shouldKeepAlive = false;
    res.writeHead(200, { 'Content-Type': 'video/x-flv', 'Cache-Control': 'no-store', Connection: 'close' });
    res.flushHeaders();
    socket.setNoDelay(true);
    const conn = new ForwardConnection(
      admission.ticketId,
      admission.downstreamNodeId,
      socket,
      this.budget,
      DEFAULT_FORWARD_LIMITS,
      Date.now,
      this.sendQueues,
    );
    this.forwards.set(admission.ticketId, conn);
    this.forwardStream.set(admission.ticketId, streamId);
    const ids = { streamId, ticketId: admission.ticketId, downstreamNodeId: admission.downstreamNodeId };
    conn.onCutback = (why, dropped) => {
      this.counters.cutbacks += 1;
      this.log.warn({ ...ids, why, dropped }, 'forward lagging: cut back to the next keyframe');
    };
    conn.onClose = (reason, kind) => {
      entry.hub.detach(conn);
      this.droppedByClosed += conn.droppedTags;
      if (kind === 'lagging') this.counters.forwardsDisconnectedLagging += 1;
      if (this.forwards.get(admission.ticketId) === conn) {
        this.forwards.delete(admission.ticketId);
        this.forwardStream.delete(admission.ticketId);
      }
      const log = kind === 'lagging' ? this.log.warn.bind(this.log) : this.log.info.bind(this.log);
      log({ ...ids, reason, bytesSent: conn.bytesSent, droppedTags: conn.droppedTags }, 'forward closed');
      this.notify(() => this.notifier.forwardClosed({ nodeId: this.nodeId, ticketId: admission.ticketId, reason }), 'forward closed');
    };
    conn.start(entry.hub.attach(conn));
    this.log.info({ streamId, ticketId: admission.ticketId, downstreamNodeId: admission.downstreamNodeId }, 'forward opened');
  }

  setUploadLimit(limitBps: number | null): void {
    this.budget.setLimit(limitBps);
    this.log.info({ uploadLimitBps: limitBps }, 'upload limit set');
  }

  // ---- stats ---------------------------------------------------------------------------------

  stats(now = Date.now()): RelayStats {
    const streams: RelayStreamStats[] = [];
    for (const [streamId, entry] of this.streams) {
      const m = entry.hub.meter.measure(now);
      const forwards = [...this.forwardStream.entries()]
        .filter(([, sid]) => sid === streamId)
        .map(([ticketId]) => this.forwards.get(ticketId)!.stats());
      streams.push({
        streamId,
        origin: entry.hub.origin,
        upstreamNodeId: entry.hub.upstreamNodeId,
        bitrateBps: m.bitrateBps,
        peakBitrateBps: m.peakBitrateBps,
        fps: m.fps,
        keyframeIntervalMs: m.keyframeIntervalMs,
        viewers: this.media.playerCount(streamId, entry.tap ? 1 : 0),
        forwards,
        tagsIn: entry.hub.tagsIn,
        lastTagAt: entry.hub.lastTagAt,
      });
    }
    return { nodeId: this.nodeId, uploadLimitBps: this.budget.limitBps, egressBps: this.egressSample.bps, streams };
  }

  private metricsSnapshot(): RelayMetricsSnapshot {
    let dropped = this.droppedByClosed;
    for (const conn of this.forwards.values()) dropped += conn.droppedTags;
    this.counters.droppedTags = dropped;
    this.counters.egressBytes = this.budget.grantedBytes;
    const now = Date.now();
    return {
      counters: this.counters,
      forwards: this.forwards.size,
      uploadLimitBps: this.budget.limitBps,
      streams: [...this.streams.entries()].map(([streamId, entry]) => {
        const m = entry.hub.meter.measure(now);
        let forwards = 0;
        for (const sid of this.forwardStream.values()) if (sid === streamId) forwards += 1;
        return {
          streamId,
          origin: entry.hub.origin,
          bitrateBps: m.bitrateBps,
          peakBitrateBps: m.peakBitrateBps,
          fps: m.fps,
          viewers: this.media.playerCount(streamId, entry.tap ? 1 : 0),
          forwards,
        };
      }),
    };
  }

  private reportStats(): void {
    const now = Date.now();
    const granted = this.budget.grantedBytes;
    const dt = now - this.egressSample.at;
    if (dt > 0) this.egressSample = { at: now, bytes: granted, bps: Math.round(((granted - this.egressSample.bytes) * 8000) / dt) };
    this.notify(() => this.notifier.stats({ nodeId: this.nodeId, stats: this.stats(now) }), 'stats');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
