import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import NodeMediaServer, { NmsSession } from 'node-media-server';
import nmsLogger from 'node-media-server/src/core/logger.js';
import nmsContext, { NmsBroadcast } from 'node-media-server/src/core/context.js';
import { Logger, scrubSecrets } from '@astral/config';

export const LIVE_APP = 'live';

export interface MediaServerOptions {
  host: string;
  rtmpPort: number;
  httpPort: number;
  dataDir: string;
}

export interface PublishEvents {
  /** An authorised external publisher (OBS, ffmpeg, astral publish) started. */
  onPublishStart(streamId: string): void;
  onPublishEnd(streamId: string): void;
  /** A publisher was refused (wrong, missing or unknown key). Never carries the key. */
  onPublishRefused?(streamPath: string, reason: string): void;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The embedded node-media-server: RTMP ingest and local playback over RTMP, HTTP-FLV and WS-FLV.
 * Publishing needs the stream's key (checked against its sha256, set by the agent) or the relay's own
 * internal key, which it uses to republish relayed streams. Refusals close the socket at once.
 */
export class MediaServer {
  private readonly nms: NodeMediaServer;
  private readonly keyHashes = new Map<string, Buffer>();
  private readonly refused = new WeakSet<NmsSession>();
  private readonly internal = new WeakSet<NmsSession>();
  /** The relay's own publish key, for republishing relayed streams into this server. */
  readonly internalKey = randomBytes(24).toString('base64url');

  constructor(
    private readonly options: MediaServerOptions,
    private readonly log: Logger,
    private readonly events: PublishEvents,
  ) {
    this.nms = new NodeMediaServer({
      bind: options.host,
      rtmp: { port: options.rtmpPort, chunk_size: 60000, gop_cache: true, ping: 30, ping_timeout: 60 },
      http: { port: options.httpPort },
      store: { path: join(options.dataDir, 'media-server') },
      record: { auto: false },
      webadmin: { enable: false },
      notify: { url: '' },
    });
    // node-media-server logs with console.log; route its lines into our structured log, scrubbed.
    // Its trace lines come once per media packet: dropped before any formatting (a measurable share of the
    // relay's CPU otherwise, even with the line itself filtered out by level).
    nmsLogger.log = (message: string, level = 'info') => {
      if (level === 'trace') return;
      const lvl = level === 'error' ? 'warn' : level === 'warn' ? 'warn' : 'debug';
      if (!this.log.isLevelEnabled(lvl)) return;
      this.log[lvl]({ component: 'node-media-server' }, scrubSecrets(String(message)));
    };
    this.nms.on('prePublish', (s) => this.onPrePublish(s));
    this.nms.on('postPublish', (s) => {
      if (this.refused.has(s) || this.internal.has(s)) return;
      this.events.onPublishStart(s.streamName);
    });
    this.nms.on('donePublish', (s) => {
      if (this.refused.has(s) || this.internal.has(s)) return;
      this.events.onPublishEnd(s.streamName);
    });
  }

  async start(): Promise<void> {
    await this.nms.run();
  }

  async stop(): Promise<void> {
    await this.nms.stop();
  }

  authorize(streamId: string, keyHashHex: string): void {
    this.keyHashes.set(streamId, Buffer.from(keyHashHex, 'hex'));
  }

  /** HTTP-FLV URL on loopback for the relay itself: the republish of a relayed stream into this server. */
  localFlvUrl(streamId: string, withInternalKey = false): string {
    const host = this.options.host === '0.0.0.0' ? '127.0.0.1' : this.options.host;
    const q = withInternalKey ? `?key=${this.internalKey}` : '';
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.options.httpPort}/${LIVE_APP}/${streamId}.flv${q}`;
  }

  /** node-media-server's broadcast of a stream (its publisher and players), if it has one. */
  broadcast(streamId: string): NmsBroadcast | undefined {
    return nmsContext.broadcasts.get(this.streamPath(streamId));
  }

  streamPath(streamId: string): string {
    return `/${LIVE_APP}/${streamId}`;
  }

  /** Players attached to the local media server, not counting the relay's own tap. */
  playerCount(streamId: string, ownTaps: number): number {
    const b = this.broadcast(streamId);
    return b ? Math.max(0, b.subscribers.size - ownTaps) : 0;
  }

  private onPrePublish(session: NmsSession): void {
    const raw = session.streamQuery?.key;
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (session.streamApp === LIVE_APP && typeof key === 'string' && key.length > 0) {
      const presented = sha256(key);
      if (timingSafeEqual(presented, sha256(this.internalKey))) {
        this.internal.add(session);
        return;
      }
      const expected = this.keyHashes.get(session.streamName);
      if (expected && timingSafeEqual(presented, expected)) {
        this.log.info({ streamId: session.streamName, protocol: session.protocol }, 'publish accepted');
        return;
      }
    }
    const reason =
      session.streamApp !== LIVE_APP
        ? `unknown application "${session.streamApp}" (publish to /${LIVE_APP}/<streamId>)`
        : typeof key !== 'string' || key.length === 0
          ? 'no stream key given (append ?key=<stream key> to the stream name)'
          : this.keyHashes.has(session.streamName)
            ? 'wrong stream key'
            : 'unknown stream (create it first with `astral node publish` or POST /api/streams)';
    this.log.warn({ streamPath: session.streamPath, protocol: session.protocol, ip: session.ip, reason }, 'publish refused');
    this.refused.add(session);
    this.events.onPublishRefused?.(session.streamPath, reason);
    // Stop the refused publisher's bytes from reaching the broadcast, then drop the connection.
    session.req?.removeAllListeners('data');
    session.req?.socket.destroy();
    session.socket?.destroy();
    session.close();
  }
}
