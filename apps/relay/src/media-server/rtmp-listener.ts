import net, { Server, Socket } from 'node:net';
import type { Logger } from '@astral/config';
import { ListenerGuard, LogThrottle, listenOn } from '@astral/net';
import { BroadcastSession, RtmpHooks, runRtmpSession } from './nms-adapter';
import { PlayerQueue, PlayerQueueLimits, classifyRtmpMessage } from './player-queue';
import { CLOCK_PARAM, PLAY_TOKEN_PARAM } from '@astral/contracts';
import type { PlayerAdmission, PlayerLease } from '../players/player-budget';

export interface RtmpAccess {
  /** null to accept; else the RTMP status code and the reason the publisher is told. */
  checkPublish(
    session: BroadcastSession,
    app: string,
    name: string,
    key: string | null,
  ): { code: string; description: string } | null;
  checkPlay(app: string, name: string): { code: string; description: string } | null;
  /** The upload budget's word on a new player (its address and `?play=` token). */
  admitPlayer(
    streamId: string,
    address: string | undefined,
    token: string | null,
    protocol: string,
  ): PlayerAdmission;
}

/**
 * The RTMP port (OBS and ffmpeg publish here; RTMP players play here): Astral's own TCP listener with the
 * connection limits of libs/net, running node-media-server's RTMP protocol code per connection through the
 * adapter, which owns its error paths. A bad peer is closed and logged; nothing it sends reaches the process.
 */
export class RtmpListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly faults = new LogThrottle();
  faultCount = 0;

  constructor(
    private readonly guard: ListenerGuard,
    private readonly access: RtmpAccess,
    private readonly publishGraceMs: number,
    private readonly playerLimits: PlayerQueueLimits,
    private readonly log: Logger,
  ) {
    this.server = net.createServer((socket) => this.accept(socket));
    guard.attach(this.server);
  }

  listen(port: number, host: string): Promise<void> {
    return listenOn(this.server, port, host, { what: 'RTMP', flag: '--rtmp-port' });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (socket.destroyed) return; // refused by the guard
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    let lease: PlayerLease | null = null;
    const hooks: RtmpHooks = {
      onConnect: (app) =>
        app.length > 0 && app.length <= 64 ? null : `application name of ${app.length} characters`,
      onPublish: (session, app, name, query) => {
        const refusal = this.access.checkPublish(session, app, name, query.get('key'));
        if (refusal)
          this.log.warn(
            { remote, protocol: 'rtmp', app, streamId: name.slice(0, 80), reason: refusal.description },
            'publish refused',
          );
        return refusal;
      },
      onPlay: (session, app, name, query) => {
        const refusal = this.access.checkPlay(app, name);
        session.wantsClock = query.get(CLOCK_PARAM) === '1';
        if (!refusal && !lease) {
          const token = query.get(PLAY_TOKEN_PARAM);
          const admission = this.access.admitPlayer(name, socket.remoteAddress, token, 'rtmp');
          // The budget logs its refusals (throttled); the player hears the reason in its status message.
          if ('refused' in admission) return { code: 'NetStream.Play.Failed', description: admission.reason };
          lease = admission.lease;
          socket.once('close', () => lease?.release());
        }
        if (refusal)
          this.log.info(
            { remote, app, streamId: name.slice(0, 80), reason: refusal.description },
            'RTMP play refused',
          );
        return refusal;
      },
      onStarted: () => this.guard.handshakeDone(socket),
      onFault: (err) => {
        this.faultCount += 1;
        const suppressed = this.faults.take(socket.remoteAddress ?? '');
        if (suppressed !== null) {
          this.log.warn(
            { remote, err: err.message, ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }) },
            'RTMP peer sent what the protocol code cannot read; connection closed',
          );
        }
      },
    };
    const session = runRtmpSession(socket, this.publishGraceMs, hooks);
    // Players are bounded: node-media-server writes every message to them whatever they have left unread.
    const queue = new PlayerQueue(
      {
        queuedBytes: () => socket.writableLength,
        write: (b) => {
          lease?.sent(b.length);
          socket.write(b);
        },
        close: () => socket.destroy(),
      },
      this.playerLimits,
      classifyRtmpMessage,
    );
    queue.onCutback = (queued) =>
      this.log.warn(
        { remote, streamPath: session.streamPath, queued },
        'RTMP player lagging: cut back to the next keyframe',
      );
    queue.onDisconnect = (reason) =>
      this.log.warn({ remote, streamPath: session.streamPath, reason }, 'RTMP player disconnected');
    session.sendBuffer = (buffer: Buffer) => queue.offer(buffer);
  }
}
