import http, { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { Logger } from '@astral/config';
import { FlvParser, FlvTag, FlvTagType } from '@astral/media';
import { ListenerGuard, hardenHttpServer, listenOn } from '@astral/net';
import { PlayerQueueLimits } from './player-queue';
import { errorName, refusePlayer, refuseUpgrade, reply } from './http-replies';
import { CLOCK_PARAM, PLAY_TOKEN_PARAM } from '@astral/contracts';
import type { PlayerAdmission, PlayerLease } from '../players/player-budget';
import { HubPlayer, HubPlayerRoster, PlayedStream, PlayerWire } from '../players/hub-player';

const FLV_PATH = /^\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,128})\.flv$/;

export interface HttpFlvAccess {
  /** The stream (its hub) a player may join, or the HTTP status and reason for refusing it. */
  playable(app: string, name: string): PlayedStream | { status: number; message: string };
  /** The upload budget's word on a new player (its address and `?play=` token). */
  admitPlayer(
    streamId: string,
    address: string | undefined,
    token: string | null,
    protocol: string,
  ): PlayerAdmission;
  /** Checks a publish before its body is read: null to accept, or the status and reason. */
  checkPublish(app: string, name: string, key: string | null): { status: number; message: string } | null;
  /** A publish whose first media tag arrived: returns its sink, or a refusal. */
  startPublish(
    app: string,
    name: string,
    remote: string,
  ): HttpFlvPublish | { status: number; message: string };
}

/** HLS on this port (apps/relay/src/hls/hls-http.ts): it takes the requests under `/live/<streamId>/…`. */
export interface HttpHlsRoutes {
  handles(url: string | undefined): boolean;
  serve(req: IncomingMessage, res: ServerResponse): void;
}

export interface HttpFlvPublish {
  tag(type: number, timestamp: number, data: Buffer): void;
  end(): void;
}

/** A player asks for the source's wall-clock stamps with ?clock=1 (CLOCK_PARAM). */
function wantsClock(query: URLSearchParams): boolean {
  return query.get(CLOCK_PARAM) === '1';
}

function parseTarget(url: string | undefined): { app: string; name: string; query: URLSearchParams } | null {
  if (!url || url.length > 4096 || !url.startsWith('/')) return null;
  const q = url.indexOf('?');
  const m = FLV_PATH.exec(q < 0 ? url : url.slice(0, q));
  if (!m) return null;
  return { app: m[1], name: m[2], query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) };
}

/**
 * The HTTP-FLV port: players GET /live/<streamId>.flv (or open a WebSocket on it), publishers POST an FLV
 * body to it with ?key=. Astral's own server: the FLV a publisher sends is read by libs/media's parser
 * (bounded tags, checked header), a stream goes live only with its first media tag, unknown streams answer
 * 404 at once, refusals say why. Players are served here, not by node-media-server: each is a HubPlayer on
 * the stream's hub (players/hub-player.ts), bounded by a PlayerQueue. HLS requests (`/live/<id>/…`) go to the
 * HLS routes before any of this.
 */
export class HttpFlvListener {
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  /** HTTP-FLV and WS-FLV players per stream id, for the stats' viewer counts. */
  private readonly roster = new HubPlayerRoster();

  constructor(
    private readonly guard: ListenerGuard,
    private readonly access: HttpFlvAccess,
    private readonly playerLimits: PlayerQueueLimits,
    private readonly log: Logger,
    private readonly hls: HttpHlsRoutes | null = null,
  ) {
    this.server = http.createServer((req, res) => this.safely(res, () => this.handle(req, res)));
    hardenHttpServer(this.server, guard, log);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      try {
        this.upgrade(req, socket, head);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'WS-FLV upgrade failed');
        socket.destroy();
      }
    });
  }

  listen(port: number, host: string): Promise<void> {
    return listenOn(this.server, port, host, { what: 'HTTP-FLV', flag: '--http-port' });
  }

  /** HTTP-FLV and WS-FLV players of a stream. */
  playerCount(streamId: string): number {
    return this.roster.count(streamId);
  }

  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private safely(res: ServerResponse, body: () => void): void {
    try {
      body();
    } catch (err) {
      this.log.error({ err: (err as Error).message, stack: (err as Error).stack }, 'HTTP-FLV request failed');
      reply(res, 500, 'unavailable', 'internal error; the request was dropped and the node goes on');
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.hls?.handles(req.url)) return this.hls.serve(req, res);
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    const target = parseTarget(req.url);
    if (!target) {
      reply(
        res,
        404,
        'not-found',
        'no such path; play /live/<streamId>.flv, publish by POST to /live/<streamId>.flv?key=<stream key>',
      );
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') return this.play(req, res, target, remote);
    if (req.method === 'POST')
      return this.publish(req, res, target.app, target.name, target.query.get('key'), remote);
    res.setHeader('Allow', 'GET, HEAD, POST, OPTIONS');
    reply(res, 405, 'bad-request', `${req.method} is not served here; GET plays, POST publishes`);
  }

  private play(
    req: IncomingMessage,
    res: ServerResponse,
    target: { app: string; name: string; query: URLSearchParams },
    remote: string,
  ): void {
    const { app, name } = target;
    const token = target.query.get(PLAY_TOKEN_PARAM);
    const found = this.access.playable(app, name);
    if (!('attach' in found)) {
      reply(res, found.status, errorName(found.status), found.message);
      return;
    }
    const admission = this.access.admitPlayer(name, req.socket.remoteAddress, token, 'http-flv');
    if ('refused' in admission) return refusePlayer(res, admission.refused);
    const { lease } = admission;
    const headers = {
      'Content-Type': 'video/x-flv',
      'Cache-Control': 'no-cache, no-store',
      'Access-Control-Allow-Origin': '*',
    };
    if (req.method === 'HEAD') {
      lease.release();
      res.writeHead(200, headers);
      res.end();
      return;
    }
    // The body is close-delimited (HTTP/1.1 allows it with Connection: close), as a forward's is: no chunk
    // framing around every tag, so the socket takes the hub's wire buffers as they are. flv.js and mpegts.js
    // (fetch), ffplay and VLC read it to the end of the connection.
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, { ...headers, Connection: 'close' });
    res.flushHeaders();
    const socket = req.socket;
    socket.setNoDelay(true);
    this.attachPlayer(found, lease, name, remote, 'HTTP-FLV', wantsClock(target.query), {
      queuedBytes: () => socket.writableLength,
      write: (b) => socket.write(b),
      cork: () => socket.cork(),
      uncork: () => socket.uncork(),
      end: () => socket.end(() => socket.destroy()),
      destroy: () => socket.destroy(),
      onClose: (fn) => res.once('close', fn),
    });
  }

  private attachPlayer(
    stream: PlayedStream,
    lease: PlayerLease,
    name: string,
    remote: string,
    kind: 'HTTP-FLV' | 'WS-FLV',
    clock: boolean,
    wire: PlayerWire,
  ): void {
    const streamPath = `/live/${name}`;
    const player = new HubPlayer(wire, {
      kind,
      remote,
      streamPath,
      wantsClock: clock,
      lease,
      limits: this.playerLimits,
      log: this.log,
    });
    wire.onClose(this.roster.add(name, player));
    player.start(stream);
  }

  private publish(
    req: IncomingMessage,
    res: ServerResponse,
    app: string,
    name: string,
    key: string | null,
    remote: string,
  ): void {
    const refusal = this.access.checkPublish(app, name, key);
    if (refusal) {
      this.log.warn(
        { remote, protocol: 'http-flv', app, streamId: name, reason: refusal.message },
        'publish refused',
      );
      reply(res, refusal.status, errorName(refusal.status), refusal.message);
      req.resume();
      return;
    }
    const parser = new FlvParser();
    let sink: HttpFlvPublish | null = null;
    let tags = 0;
    let done = false;
    const held: FlvTag[] = [];
    const fail = (status: number, message: string): void => {
      clearTimeout(firstTagTimer);
      if (done) return;
      done = true;
      req.removeAllListeners('data');
      this.log.warn(
        { remote, protocol: 'http-flv', streamId: name, tags, reason: message },
        'publish refused',
      );
      sink?.end();
      sink = null;
      reply(res, status, errorName(status), message);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      let parsed;
      try {
        parsed = parser.push(chunk);
      } catch (err) {
        fail(400, `${(err as Error).message}; send an FLV stream (header "FLV", then tags)`);
        return;
      }
      for (const tag of parsed) {
        if (!sink) {
          // Metadata before the first media tag is held: the stream goes live with media, not before.
          if (tag.type !== FlvTagType.Audio && tag.type !== FlvTagType.Video) {
            if (held.length >= 16)
              return fail(400, 'more than 16 script tags before the first audio or video tag');
            held.push(tag);
            continue;
          }
          const started = this.access.startPublish(app, name, remote);
          if (!('tag' in started)) return fail(started.status, started.message);
          sink = started;
          for (const h of held.splice(0)) {
            try {
              started.tag(h.type, h.timestamp, h.data);
            } catch (err) {
              return fail(400, `unreadable script tag: ${(err as Error).message}`);
            }
          }
        }
        try {
          sink.tag(tag.type, tag.timestamp, tag.data);
          tags += 1;
        } catch (err) {
          return fail(
            400,
            `unreadable ${tag.type === FlvTagType.Video ? 'video' : tag.type === FlvTagType.Audio ? 'audio' : 'script'} tag: ${(err as Error).message}`,
          );
        }
      }
    });
    // A body that never gets to its first media tag is refused, not held open.
    const firstTagTimer = setTimeout(() => {
      if (!sink)
        fail(408, `no audio or video tag within ${this.guard.limits.handshakeTimeoutMs} ms of the request`);
    }, this.guard.limits.handshakeTimeoutMs);
    firstTagTimer.unref();
    const finish = (): void => {
      clearTimeout(firstTagTimer);
      if (done) return;
      done = true;
      sink?.end();
      sink = null;
      if (!res.headersSent && !res.destroyed) {
        if (tags === 0)
          reply(res, 400, 'bad-request', 'the body held no audio or video tag; nothing was published');
        else reply(res, 200, 'ok', `publish ended after ${tags} tags`);
      }
    };
    req.on('end', finish);
    req.on('close', finish);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const target = parseTarget(req.url);
    const found = target
      ? this.access.playable(target.app, target.name)
      : { status: 404, message: 'no such path; play /live/<streamId>.flv' };
    if (!target || !('attach' in found))
      return refuseUpgrade(socket, found as { status: number; message: string });
    const admission = this.access.admitPlayer(
      target.name,
      req.socket.remoteAddress,
      target.query.get(PLAY_TOKEN_PARAM),
      'ws-flv',
    );
    if ('refused' in admission) return refuseUpgrade(socket, admission.refused);
    const { lease } = admission;
    socket.once('close', () => lease.release()); // also when the handshake fails before a player exists
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', (err) => this.log.debug({ remote, err: err.message }, 'WS-FLV socket error'));
      ws.on('message', () => undefined); // players have nothing to say; publishing over WebSocket is not served
      this.attachPlayer(found, lease, target.name, remote, 'WS-FLV', wantsClock(target.query), {
        queuedBytes: () => ws.bufferedAmount,
        write: (b) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(b);
        },
        // The upgraded socket is the one ws writes its frames to: corked, a turn's frames leave together.
        cork: () => socket.cork(),
        uncork: () => socket.uncork(),
        end: () => ws.close(1001, 'the stream ended'),
        destroy: () => ws.terminate(),
        onClose: (fn) => ws.once('close', fn),
      });
    });
  }
}
