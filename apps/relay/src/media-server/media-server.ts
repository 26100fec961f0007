import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import NodeMediaServer from 'node-media-server';
import nmsContext from 'node-media-server/src/core/context.js';
import { Logger, scrubSecrets } from '@astral/config';
import { ListenerGuard, ListenerLimits } from '@astral/net';
import {
  BroadcastSession,
  NmsBroadcast,
  beginPublish,
  createNms,
  endPublish,
  ensureBroadcast,
  findBroadcast,
  hasPublisher,
  isPublishing,
  lastMediaTimestamp,
  newSessionFields,
  publishTag,
  routeNmsLogs,
} from './nms-adapter';
import { HttpFlvListener, HttpFlvPublish, HttpHlsRoutes } from './http-flv-listener';
import { RtmpListener } from './rtmp-listener';
import { PlayerQueueLimits } from './player-queue';
import { clockTag } from '@astral/media';
import type { PlayerAdmission } from '../players/player-budget';
import type { PlayedStream } from '../players/hub-player';

/** Admits or refuses a new player of any protocol (the relay's PlayerBudget). */
export interface PlayerGate {
  admit(
    streamId: string,
    address: string | undefined,
    token: string | null,
    protocol: string,
  ): PlayerAdmission;
}

/** The relay's hub of a stream (streams/relay-streams.ts), which HTTP-FLV and WS-FLV players watch. */
export type HubOf = (streamId: string) => PlayedStream | undefined;

export const LIVE_APP = 'live';

export interface MediaServerOptions {
  host: string;
  rtmpPort: number;
  httpPort: number;
  dataDir: string;
  limits: ListenerLimits;
  /** Bytes a player may leave unread: past half it is cut back to the next keyframe, past all disconnected. */
  playerQueueBytes: number;
  /** How long a stream whose publisher left waits for the same publisher to resume before it ends. */
  publishGraceMs: number;
}

export interface PublishEvents {
  /** An authorised external publisher (OBS, ffmpeg, astral publish) started. */
  onPublishStart(streamId: string): void;
  onPublishEnd(streamId: string): void;
  /** A publisher was refused (wrong, missing or unknown key). Never carries the key. */
  onPublishRefused?(streamPath: string, reason: string): void;
}

/** What the relay itself publishes into the media server (a relayed stream, for local players). */
export interface LocalPublish {
  tag(type: number, timestamp: number, data: Buffer): void;
  end(): void;
}

type KeyRefusal = { status: 401 | 403 | 404 | 409; rtmpCode: string; reason: string };

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The node's media server: ingest (RTMP, HTTP-FLV POST) and local playback over RTMP, HTTP-FLV and WS-FLV.
 * Astral owns both listeners (rtmp-listener.ts, http-flv-listener.ts, with the connection limits of libs/net);
 * node-media-server runs the RTMP protocol and the per-stream broadcasts behind them (nms-adapter.ts), which
 * feed the relay's hub and serve RTMP players. HTTP-FLV and WS-FLV players are served from the hub. Publishing needs the
 * stream's key (checked against its sha256, set by the agent); refusals tell the publisher why.
 */
export class MediaServer {
  private readonly nms: NodeMediaServer;
  private readonly keyHashes = new Map<string, Buffer>();
  /** Sessions whose publish Astral checked (or made itself); any other publish is refused. */
  private readonly authorized = new WeakSet<object>();
  private readonly internal = new WeakSet<object>();
  readonly rtmp: RtmpListener;
  readonly http: HttpFlvListener;

  constructor(
    private readonly options: MediaServerOptions,
    private readonly log: Logger,
    private readonly events: PublishEvents,
    players: PlayerGate,
    hubOf: HubOf,
    hls: HttpHlsRoutes | null = null,
  ) {
    const admitPlayer = players.admit.bind(players);
    // node-media-server logs with console.log; route its lines (its constructor's banner too) into our
    // structured log, scrubbed, before it is constructed.
    routeNmsLogs((message, level) => {
      const lvl = level === 'error' || level === 'warn' ? 'warn' : 'debug';
      if (this.log.isLevelEnabled(lvl))
        this.log[lvl]({ component: 'node-media-server' }, scrubSecrets(message));
    });
    this.nms = createNms(join(options.dataDir, 'media-server'));
    this.nms.on('prePublish', (s) => {
      if (this.authorized.has(s) || this.internal.has(s)) return;
      this.log.warn(
        { streamPath: s.streamPath },
        'publish refused: it did not come through an Astral listener',
      );
      s.close();
    });
    this.nms.on('postPublish', (s) => {
      if (this.internal.has(s) || !this.authorized.has(s)) return;
      this.events.onPublishStart(s.streamName);
    });
    this.nms.on('donePublish', (s) => {
      if (this.internal.has(s) || !this.authorized.has(s)) return;
      this.events.onPublishEnd(s.streamName);
    });
    const playerLimits: PlayerQueueLimits = { maxQueuedBytes: options.playerQueueBytes, maxCutbackMs: 5_000 };
    this.rtmp = new RtmpListener(
      new ListenerGuard('rtmp', options.limits, log),
      {
        checkPublish: (session, app, name, key) => {
          const refusal = this.checkKey(app, name, key);
          if (refusal) {
            this.events.onPublishRefused?.(`/${app}/${name}`, refusal.reason);
            return { code: refusal.rtmpCode, description: refusal.reason };
          }
          this.authorized.add(session);
          this.log.info({ streamId: name, protocol: 'rtmp' }, 'publish accepted');
          return null;
        },
        checkPlay: (app, name) =>
          app === LIVE_APP && hasPublisher(this.streamPath(name))
            ? null
            : {
                code: 'NetStream.Play.StreamNotFound',
                description: `stream ${name} is not live on this node`,
              },
        admitPlayer,
      },
      options.publishGraceMs,
      playerLimits,
      log,
    );
    this.http = new HttpFlvListener(
      new ListenerGuard('http-flv', options.limits, log),
      {
        // A local publish has its hub from its first publish until its grace window ran out, as the
        // broadcast had its publisher; a relayed stream from its first pull until it is closed.
        playable: (app, name) =>
          (app === LIVE_APP ? hubOf(name) : undefined) ?? {
            status: 404,
            message: `stream ${name} is not live on this node`,
          },
        checkPublish: (app, name, key) => {
          const refusal = this.checkKey(app, name, key);
          if (refusal) this.events.onPublishRefused?.(`/${app}/${name}`, refusal.reason);
          return refusal && { status: refusal.status, message: refusal.reason };
        },
        startPublish: (_app, name, remote) => this.startPublish(name, remote, false),
        admitPlayer,
      },
      playerLimits,
      log,
      hls,
    );
  }

  async start(): Promise<void> {
    await this.nms.run();
    await this.rtmp.listen(this.options.rtmpPort, this.options.host);
    await this.http.listen(this.options.httpPort, this.options.host);
  }

  async stop(): Promise<void> {
    await Promise.all([this.rtmp.close(), this.http.close()]);
    await this.nms.stop();
    // Broadcasts live in node-media-server's module state: drop them with the server.
    nmsContext.broadcasts.clear();
  }

  authorize(streamId: string, keyHashHex: string): void {
    this.keyHashes.set(streamId, Buffer.from(keyHashHex, 'hex'));
  }

  /** node-media-server's broadcast of a stream (its publisher and players), if it has one. */
  broadcast(streamId: string): NmsBroadcast | undefined {
    return findBroadcast(this.streamPath(streamId));
  }

  /**
   * Stamps the source's wall clock into a stream published here: an onAstralClock script tag at the stream's
   * current timestamp, to its players and (through the relay's tap) its forwards. Nothing before media flows.
   */
  stampClock(streamId: string, wallClockMs: number): boolean {
    const b = this.broadcast(streamId);
    if (!b || !isPublishing(this.streamPath(streamId))) return false;
    const ts = lastMediaTimestamp(b);
    if (ts === null) return false;
    publishTag(b, 18, ts, clockTag(ts, wallClockMs).data);
    return true;
  }

  streamPath(streamId: string): string {
    return `/${LIVE_APP}/${streamId}`;
  }

  /** Players of the stream on this node: RTMP ones on node-media-server (not the relay's own tap), HTTP-FLV and WS-FLV. */
  playerCount(streamId: string, ownTaps: number): number {
    const b = this.broadcast(streamId);
    return (b ? Math.max(0, b.subscribers.size - ownTaps) : 0) + this.http.playerCount(streamId);
  }

  /**
   * Publishes a relayed stream into the local media server, in this process: no socket, no HTTP request
   * (a loopback POST was cut by Node's request timeout every 300 s). It lasts the stream's whole life on
   * this node, across upstream switches, so local players never see their publisher go away.
   */
  openLocalPublish(streamId: string): LocalPublish {
    const started = this.startPublish(streamId, '', true);
    if (!('tag' in started)) throw new Error(`cannot publish ${streamId} locally: ${started.message}`);
    return started;
  }

  private startPublish(
    name: string,
    remote: string,
    internal: boolean,
  ): HttpFlvPublish | { status: number; message: string } {
    const streamPath = this.streamPath(name);
    if (isPublishing(streamPath))
      return { status: 409, message: `stream ${name} already has a publisher on this node` };
    const broadcast = ensureBroadcast(streamPath, this.options.publishGraceMs);
    const session: BroadcastSession = {
      ...newSessionFields(),
      id: `astral-publish-${randomUUID()}`,
      ip: remote,
      protocol: 'flv',
      isPublisher: true,
      streamApp: LIVE_APP,
      streamName: name,
      streamPath,
      streamQuery: {},
      sendBuffer: () => undefined,
      close: () => undefined,
    };
    (internal ? this.internal : this.authorized).add(session);
    const refused = beginPublish(broadcast, session);
    if (refused) return { status: 409, message: refused };
    if (!internal) this.log.info({ streamId: name, protocol: 'http-flv' }, 'publish accepted');
    let ended = false;
    return {
      tag: (type, timestamp, data) => {
        if (!ended) publishTag(broadcast, type, timestamp, data);
      },
      end: () => {
        if (ended) return;
        ended = true;
        endPublish(broadcast, session);
      },
    };
  }

  private checkKey(app: string, name: string, key: string | null): KeyRefusal | null {
    if (app !== LIVE_APP) {
      return {
        status: 404,
        rtmpCode: 'NetStream.Publish.BadName',
        reason: `unknown application "${app}" (publish to /${LIVE_APP}/<streamId>)`,
      };
    }
    const expected = this.keyHashes.get(name);
    if (!expected) {
      return {
        status: 404,
        rtmpCode: 'NetStream.Publish.BadName',
        reason: `unknown stream ${name} (create it first with \`astral publish\` or POST /api/streams)`,
      };
    }
    if (!key) {
      return {
        status: 401,
        rtmpCode: 'NetStream.Publish.Unauthorized',
        reason: 'no stream key given (append ?key=<stream key> to the stream name)',
      };
    }
    if (!timingSafeEqual(sha256(key), expected)) {
      return { status: 403, rtmpCode: 'NetStream.Publish.Unauthorized', reason: 'wrong stream key' };
    }
    if (isPublishing(this.streamPath(name))) {
      return {
        status: 409,
        rtmpCode: 'NetStream.Publish.BadName',
        reason: `stream ${name} already has a publisher on this node`,
      };
    }
    return null;
  }
}
