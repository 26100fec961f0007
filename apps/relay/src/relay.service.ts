import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { ServerResponse } from 'node:http';
import { AdmitForward, OpenUpstream, RelayStats, SetDirectoryLink } from '@astral/contracts';
import { PlayerBudget } from './players/player-budget';
import { AgentNotifier } from '@astral/transport';
import { Logger, NodeConfig, listenerLimits } from '@astral/config';
import { UploadBudget } from './forward/upload-budget';
import { SendQueueProbe } from './forward/send-queue-probe';
import { RelayForwards } from './forward/relay-forwards';
import { MediaServer } from './media-server/media-server';
import { RelayCounters, RelayMetrics } from './metrics/relay-metrics';
import { RelayStreams } from './streams/relay-streams';
import { RelayStatsReporter } from './stats/relay-stats';
import { TellAgent, agentTeller } from './agent-link';
import { NodeKeys } from '@astral/identity';
import { RelayHls, hlsSettings } from './hls/hls-streams';
import { HlsHttp } from './hls/hls-http';
import { hlsDirectoryPlay } from './hls/hls-sessions';
import { HlsSegmenter } from '@astral/media';
import {
  RELAY_CLIENT,
  RELAY_LOGGER,
  RELAY_NODE_CONFIG,
  RELAY_NODE_ID,
  RELAY_NODE_KEYS,
} from './relay.tokens';

const STATS_INTERVAL_MS = 1000;
/** How often the source's relay stamps its wall clock into the streams published on it. */
const CLOCK_STAMP_MS = 1000;
/** How long a leaving relay waits for its close tags to reach the downstream relays. */
const LEAVE_FLUSH_MS = 1000;

/**
 * The relay's data plane as a Nest service: it wires the media server, the streams
 * (streams/relay-streams.ts), the forwards (forward/relay-forwards.ts), the upload budget and the stats
 * (stats/relay-stats.ts), runs their lifecycle, and carries the agent's commands to them.
 */
@Injectable()
export class RelayService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  readonly budget: UploadBudget;
  readonly media: MediaServer;
  readonly metrics: RelayMetrics;
  readonly players: PlayerBudget;
  readonly hls: RelayHls;
  private clockTimer: NodeJS.Timeout | null = null;
  private readonly streams: RelayStreams;
  private readonly forwards: RelayForwards;
  private readonly reporter: RelayStatsReporter;
  private readonly tell: TellAgent;
  private readonly sendQueues = new SendQueueProbe();
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
    playersRefused: 0,
    standbyBytesIn: 0,
    standbyPromotions: 0,
    standbySpliceFallbacks: 0,
    standbysLost: 0,
  };

  constructor(
    @Inject(RELAY_NODE_CONFIG) config: NodeConfig,
    @Inject(RELAY_NODE_ID) readonly nodeId: string,
    @Inject(RELAY_LOGGER) private readonly log: Logger,
    @Inject(RELAY_CLIENT) client: ClientProxy,
    @Inject(RELAY_NODE_KEYS) keys: NodeKeys,
  ) {
    this.budget = new UploadBudget(config.uploadLimitBps ?? null);
    this.tell = agentTeller(new AgentNotifier(client, nodeId), log);
    this.players = new PlayerBudget({
      nodeId,
      budget: this.budget,
      access: config.playAccess,
      localPlayers: config.localPlayers,
      bitrateOf: (streamId) => this.streams.hubOf(streamId)?.meter.measure(Date.now()).bitrateBps ?? 0,
      log,
      onAdmitted: () => this.reporter.reportSoon(),
    });
    this.hls = new RelayHls({
      settings: hlsSettings(config),
      hubOf: (streamId) => this.streams.hubOf(streamId),
      streamIds: () => this.streams.all().map(([streamId]) => streamId),
      admit: (streamId, address, token, ll) =>
        this.players.admit(streamId, address, token, 'hls', hlsDirectoryPlay(ll)),
      createSegmenter: (settings) => new HlsSegmenter(settings),
      log,
    });
    this.media = new MediaServer(
      {
        host: config.host,
        rtmpPort: config.rtmpPort,
        httpPort: config.httpPort,
        dataDir: config.dataDir,
        limits: listenerLimits(config),
        playerQueueBytes: config.playerQueueBytes,
        publishGraceMs: config.publishGraceMs,
      },
      log,
      {
        onPublishStart: (streamId) => this.streams.onLocalPublish(streamId),
        onPublishEnd: (streamId) => this.streams.onLocalPublishEnd(streamId),
        onPublishRefused: () => {
          this.counters.publishesRefused += 1;
        },
      },
      this.players,
      (streamId) => this.streams.hubOf(streamId),
      new HlsHttp(this.hls, log),
    );
    const leaving = (): boolean => this.leaving;
    const common = { nodeId, counters: this.counters, log, tell: this.tell, leaving };
    this.forwards = new RelayForwards({
      ...common,
      publicKey: keys.publicKey,
      budget: this.budget,
      sendQueues: this.sendQueues,
      hubOf: (streamId) => this.streams.hubOf(streamId),
    });
    this.streams = new RelayStreams({
      ...common,
      keys,
      stallMs: config.stallMs,
      media: this.media,
      closeForwards: (streamId, reason) => this.forwards.closeStream(streamId, reason),
    });
    this.reporter = new RelayStatsReporter({
      nodeId,
      streams: this.streams,
      forwards: this.forwards,
      media: this.media,
      budget: this.budget,
      players: this.players,
      counters: this.counters,
      tell: this.tell,
      hls: this.hls,
    });
    this.metrics = new RelayMetrics(nodeId, () => this.reporter.metricsSnapshot());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.media.start();
    this.reporter.start(STATS_INTERVAL_MS);
    this.hls.start();
    this.clockTimer = setInterval(() => this.streams.stampClocks(Date.now()), CLOCK_STAMP_MS);
  }

  /** Called once the Redis listener is subscribed: the agent may now replay its state to us. */
  announceReady(): void {
    this.tell('ready', (n) => n.ready({ nodeId: this.nodeId }));
  }

  /**
   * Tells downstream relays we are leaving (a close tag with the reason 'leaving' on every forward), so
   * they re-parent at once instead of waiting for a stall, and waits briefly for those tags to leave.
   * Runs before the forward server closes its sockets.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.leaving = true;
    const closing = this.forwards.allClosed(LEAVE_FLUSH_MS);
    this.forwards.closeAll('leaving');
    await closing;
  }

  async onApplicationShutdown(): Promise<void> {
    this.leaving = true;
    this.reporter.stop();
    if (this.clockTimer) clearInterval(this.clockTimer);
    this.forwards.closeAll('leaving');
    this.hls.closeAll('relay shutting down');
    this.streams.dropAll('relay shutting down');
    this.budget.close();
    this.sendQueues.stop();
    await this.media.stop();
  }

  // ---- the agent's commands (control/relay-control.controller.ts) ----

  authorizePublish(streamId: string, keyHash: string): void {
    this.media.authorize(streamId, keyHash);
  }

  openUpstream(msg: OpenUpstream): void {
    this.streams.openUpstream(msg);
  }

  closeUpstream(streamId: string, role?: 'standby'): boolean {
    return role === 'standby' ? this.streams.closeStandby(streamId) : this.streams.closeUpstream(streamId);
  }

  admitForward(msg: AdmitForward): void {
    this.forwards.admit(msg);
  }

  revokeForward(ticketId: string, reason: string): boolean {
    return this.forwards.revoke(ticketId, reason);
  }

  setUploadLimit(limitBps: number | null): void {
    this.budget.setLimit(limitBps);
    this.log.info({ uploadLimitBps: limitBps }, 'upload limit set');
  }

  /** The agent's forward commitment: players are admitted only into what it leaves of the limit. */
  setPlayerBudget(forwardCommittedBps: number): void {
    this.players.forwardCommittedBps = forwardCommittedBps;
  }

  /** The directory's play-token key and public URL, from the agent's registration. */
  setDirectoryLink(msg: SetDirectoryLink): void {
    const changed =
      (msg.directoryKey ?? null) !== this.players.directoryKey ||
      (msg.publicUrl ?? null) !== this.players.publicUrl;
    this.players.directoryKey = msg.directoryKey ?? null;
    this.players.publicUrl = msg.publicUrl ?? null;
    if (changed)
      this.log.info(
        { directoryKey: this.players.directoryKey !== null, publicUrl: this.players.publicUrl },
        'directory link set: play tokens and full-node redirects',
      );
  }

  stats(now?: number): RelayStats {
    return this.reporter.stats(now);
  }

  // ---- the forward port (forward/forward-server.ts) ----

  /** GET /forward/<streamId>.flv?ticket=<token>, with its X-Astral-Proof header. */
  serveForward(
    streamId: string,
    token: string | null,
    proof: string | string[] | undefined,
    res: ServerResponse,
    remote: string,
  ): void {
    this.forwards.serve(streamId, token, proof, res, remote);
  }
}
