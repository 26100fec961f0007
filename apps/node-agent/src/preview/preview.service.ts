import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { DirectoryPatterns } from '@astral/contracts';
import { Logger, NodeConfig } from '@astral/config';
import { LogThrottle } from '@astral/net';
import { request } from '@astral/transport';
import { AGENT_CLIENT, AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID } from '../agent.tokens';
import { DirectoryLink } from '../directory/directory-link.service';
import { CarriedStreams } from '../streams/carried-streams';
import { PreviewGrabber } from './preview-grabber';

/** How often the service matches its grabbers to the streams published here. */
const RECONCILE_MS = 2000;
/** After ffmpeg exits by itself, it is started again no sooner than this (doubling up to 60 s). */
const RESTART_MS = 5000;

/**
 * Previews of the streams this node publishes (ASTRAL_PREVIEWS): one PreviewGrabber (ffmpeg) per live
 * published stream, its frames sent to the directory over the bus (SetPreview, which every replica receives).
 * A grabber starts when the stream goes live here and is stopped when it ends or the agent stops.
 */
@Injectable()
export class PreviewService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly grabbers = new Map<string, PreviewGrabber>();
  /** Per stream: no restart before this time, and the backoff. Entries leave with the stream. */
  private readonly restarts = new Map<string, { notBefore: number; backoffMs: number }>();
  private readonly sending = new Set<string>();
  private readonly refusals = new LogThrottle(30_000);
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    @Inject(AGENT_CONFIG) private readonly config: NodeConfig,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
    @Inject(AGENT_CLIENT) private readonly client: ClientProxy,
    private readonly directoryLink: DirectoryLink,
    private readonly carried: CarriedStreams,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.previews !== 'on') return;
    this.timer = setInterval(() => this.reconcile(), RECONCILE_MS);
  }

  /** Starts a grabber for each live stream published here, stops those of streams that ended. */
  reconcile(now = Date.now()): void {
    if (this.stopped) return;
    const published = new Set(
      this.carried
        .all()
        .filter((c) => c.origin === 'publish')
        .map((c) => c.streamId),
    );
    for (const [streamId, g] of this.grabbers)
      if (!published.has(streamId)) {
        this.grabbers.delete(streamId);
        void g.stop().then(() => this.log.info({ streamId }, 'preview grabber stopped: the stream ended'));
      }
    for (const streamId of this.restarts.keys()) if (!published.has(streamId)) this.restarts.delete(streamId);
    if (!this.directoryLink.isRegistered) return;
    for (const streamId of published) {
      if (this.grabbers.has(streamId) || (this.restarts.get(streamId)?.notBefore ?? 0) > now) continue;
      this.start(streamId);
    }
  }

  private start(streamId: string): void {
    const url = `http://127.0.0.1:${this.config.httpPort}/live/${streamId}.flv`;
    const grabber = new PreviewGrabber({
      url,
      intervalMs: this.config.previewIntervalMs,
      onFrame: (jpeg) => this.send(streamId, jpeg),
      onExit: (code, signal, lastError) => {
        if (this.grabbers.get(streamId) !== grabber) return;
        this.grabbers.delete(streamId);
        if (/ENOENT/.test(lastError)) {
          this.stopped = true;
          this.log.error(
            { streamId, err: lastError },
            'ffmpeg not found: previews off on this node; install ffmpeg or set ASTRAL_PREVIEWS=off',
          );
          return;
        }
        const backoffMs = Math.min(60_000, (this.restarts.get(streamId)?.backoffMs ?? RESTART_MS / 2) * 2);
        this.restarts.set(streamId, { notBefore: Date.now() + backoffMs, backoffMs });
        this.log.warn(
          { streamId, code, signal, err: lastError, restartInMs: backoffMs },
          'preview grabber (ffmpeg) exited; starting it again later',
        );
      },
    });
    this.grabbers.set(streamId, grabber);
    this.log.info(
      { streamId, pid: grabber.pid, intervalMs: this.config.previewIntervalMs },
      'preview grabber started',
    );
  }

  /** One request at a time per stream: a frame that arrives while the last is in flight is skipped. */
  private send(streamId: string, jpeg: Buffer): void {
    if (this.sending.has(streamId) || this.stopped) return;
    this.sending.add(streamId);
    this.restarts.delete(streamId); // frames flow: the next failure starts from the shortest backoff
    request(
      this.client,
      DirectoryPatterns.SetPreview,
      { streamId, nodeId: this.nodeId, jpeg: jpeg.toString('base64') },
      5000,
    )
      .catch((err: Error) => {
        const suppressed = this.refusals.take(`${streamId}|${err.message.slice(0, 80)}`);
        if (suppressed !== null)
          this.log.warn(
            { streamId, err: err.message, bytes: jpeg.length, suppressed },
            'preview not taken by the directory',
          );
      })
      .finally(() => this.sending.delete(streamId));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const all = [...this.grabbers.values()];
    this.grabbers.clear();
    await Promise.all(all.map((g) => g.stop()));
  }
}
