import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@astral/config';
import { LogThrottle } from '@astral/net';
import type { PlayerLease } from '../players/player-budget';
import { errorName, refusePlayer, reply } from '../media-server/http-replies';
import { HlsRoute, isHlsTarget, parseHlsTarget, parseRange } from './hls-routes';
import {
  HLS_BLOCK_TARGETS,
  HLS_OPTIONS_HEADERS,
  mediaHeaders,
  playlistHeaders,
  retryAfterS,
  sliceChunks,
} from './hls-headers';
import { sessionAliveMs } from './hls-sessions';
import type { HlsStreamState, RelayHls } from './hls-streams';

type PlaylistRoute = Extract<HlsRoute, { kind: 'playlist' }>;
type MediaRoute = Extract<HlsRoute, { kind: 'media' }>;

/**
 * HLS and LL-HLS on the HTTP-FLV port (docs/RELAY.md "HLS"): the listener hands it every request under
 * `/live/<id>/…`. Answers playlists and media from the stream's segmenter (RelayHls), blocks LL-HLS
 * requests for what comes next (bounded, cleaned up when the client leaves), and charges every byte to the
 * session's lease in the one player budget. Garbage is refused with a status and a JSON reason.
 */
export class HlsHttp {
  private readonly refusals = new LogThrottle(10_000, 200);

  constructor(
    private readonly hls: RelayHls,
    private readonly log: Logger,
  ) {}

  /** Is this request HlsHttp's (before the listener's FLV routing)? */
  handles(url: string | undefined): boolean {
    return isHlsTarget(url);
  }

  serve(req: IncomingMessage, res: ServerResponse): void {
    const address = req.socket.remoteAddress;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, HLS_OPTIONS_HEADERS);
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD, OPTIONS');
      return this.refuse(res, 405, `${req.method} is not served on HLS paths; GET plays`, address, req.url);
    }
    const target = parseHlsTarget(req.url ?? '');
    if (!target.ok) return this.refuse(res, target.status, target.message, address, req.url);
    const route = target.route;
    const { streamId } = route;
    if (!this.hls.settings.enabled)
      return this.notFound(res, 'HLS is off on this node (--hls off); play HTTP-FLV at /live/<streamId>.flv');
    if (!this.hls.carries(streamId)) return this.notFound(res, `stream ${streamId} is not live on this node`);
    const ll = route.kind === 'playlist' && route.playlist === 'll';
    const session = this.hls.sessions.request(
      streamId,
      address,
      route.token,
      sessionAliveMs(this.targetDurationS(this.hls.peek(streamId))),
      ll,
    );
    if ('refused' in session) return refusePlayer(res, session.refused);
    const state = this.hls.open(streamId);
    if (!state) return this.notFound(res, `stream ${streamId} is not live on this node`);
    if (state.ended) return this.unavailable(res, 1, `segmenting ${streamId} failed; try again`);
    const head = req.method === 'HEAD';
    if (route.kind === 'playlist') this.playlist(req, res, state, route, session.lease, head);
    else this.media(req, res, state, route, session.lease, head);
  }

  private playlist(
    req: IncomingMessage,
    res: ServerResponse,
    state: HlsStreamState,
    route: PlaylistRoute,
    lease: PlayerLease,
    head: boolean,
  ): void {
    // Blocking reload is LL-HLS (CAN-BLOCK-RELOAD in ll.m3u8); the plain playlist ignores the parameters.
    const blocking = route.playlist === 'll' && route.msn !== undefined;
    const answer = (final: boolean): boolean => {
      if (res.writableEnded || res.destroyed) return true;
      const seg = state.segmenter;
      // A playlist is served once it lists a whole segment: a plain player needs one, and hls.js reads a
      // playlist of parts only as empty (levelEmptyError) and retries late. On demand, that is at most a
      // segment's wait (the GOP cache gives the first one a head start).
      const ready = seg.hasSegment;
      if (blocking && ready && !final) {
        const where = seg.blocking(route.msn!, route.part);
        if (where.kind === 'too-far') {
          this.refuse(res, 400, where.reason, req.socket.remoteAddress, req.url);
          return true;
        }
        if (where.kind === 'pending') return false;
      }
      const text = ready || (final && seg.started) ? seg.playlist(route.playlist) : null;
      if (text === null) {
        if (!final) return false;
        this.notFound(res, `stream ${route.streamId} ended before its first HLS segment`);
        return true;
      }
      const body = Buffer.from(text);
      const targetS = this.targetDurationS(state);
      res.writeHead(200, playlistHeaders(route.playlist, blocking, targetS, body.length));
      this.send(res, [body], body.length, lease, head);
      return true;
    };
    if (!answer(false)) this.wait(res, state, answer);
  }

  private media(
    req: IncomingMessage,
    res: ServerResponse,
    state: HlsStreamState,
    route: MediaRoute,
    lease: PlayerLease,
    head: boolean,
  ): void {
    if (route.epoch !== state.segmenter.epoch)
      return this.notFound(
        res,
        `no media of epoch ${route.epoch} here (an earlier segmenting run of ${route.streamId}); reload the playlist`,
      );
    const answer = (final: boolean): boolean => {
      if (res.writableEnded || res.destroyed) return true;
      const found = state.segmenter.find(route.name);
      if (found.kind === 'pending' && !final) return false;
      if (found.kind !== 'ready') {
        this.notFound(res, found.kind === 'missing' ? found.reason : `stream ${route.streamId} ended`);
        return true;
      }
      const range = parseRange(header(req.headers.range), found.bytes);
      if (range === 'unsatisfiable') {
        res.setHeader('Content-Range', `bytes */${found.bytes}`);
        reply(res, 416, 'bad-request', `the range is outside the ${found.bytes} bytes of ${route.name}`);
        return true;
      }
      res.writeHead(range ? 206 : 200, mediaHeaders(route.media, found.bytes, range));
      const chunks = range ? sliceChunks(found.chunks, range.start, range.end) : found.chunks;
      this.send(res, chunks, range ? range.end - range.start + 1 : found.bytes, lease, head);
      return true;
    };
    if (!answer(false)) this.wait(res, state, answer);
  }

  /** Waits for the segmenter's next change, at most 3 target durations; 503 with Retry-After past that. */
  private wait(res: ServerResponse, state: HlsStreamState, answer: (final: boolean) => boolean): void {
    const { counters } = this.hls;
    counters.blockingWaits += 1;
    const targetS = this.targetDurationS(state);
    const cancel = state.waiters.add(
      {
        // Runs inside the segmenter's onChange (under a hub's ingest): a throw here must end this request only.
        settle: (final) => {
          try {
            return answer(final);
          } catch (err) {
            this.log.error({ err: (err as Error).message, stack: (err as Error).stack }, 'HLS answer failed');
            if (!res.headersSent) reply(res, 500, 'unavailable', 'internal error; the request was dropped');
            else res.destroy();
            return true;
          }
        },
        timedOut: () => {
          counters.blockingTimeouts += 1;
          this.unavailable(
            res,
            retryAfterS(targetS),
            `nothing new within ${HLS_BLOCK_TARGETS} target durations; the stream may be stalled, ask again`,
          );
        },
      },
      HLS_BLOCK_TARGETS * targetS * 1000,
    );
    res.once('close', cancel);
  }

  private send(
    res: ServerResponse,
    chunks: Buffer[],
    bytes: number,
    lease: PlayerLease,
    head: boolean,
  ): void {
    if (head) {
      res.end();
      return;
    }
    for (const c of chunks) res.write(c);
    res.end();
    lease.sent(bytes);
    this.hls.counters.bytes += bytes;
  }

  /** The segmenter's target duration, or the configured segment target before it has one. */
  private targetDurationS(state: HlsStreamState | undefined): number {
    const stats = state && !state.ended ? state.segmenter.stats() : null;
    return stats && stats.targetDurationS > 0
      ? stats.targetDurationS
      : Math.max(1, Math.ceil(this.hls.settings.segmentTargetMs / 1000));
  }

  private notFound(res: ServerResponse, message: string): void {
    if (res.headersSent || res.destroyed) return;
    res.setHeader('Cache-Control', 'no-cache');
    reply(res, 404, 'not-found', message);
  }

  private unavailable(res: ServerResponse, retryAfter: number, message: string): void {
    if (res.headersSent || res.destroyed) return;
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Retry-After', String(retryAfter));
    reply(res, 503, 'unavailable', message);
  }

  /** A malformed request: the status and reason to the client, a throttled line to the log (no query: it may hold a token). */
  private refuse(
    res: ServerResponse,
    status: number,
    message: string,
    address: string | undefined,
    url: string | undefined,
  ): void {
    if (status === 404) return this.notFound(res, message);
    const suppressed = this.refusals.take(`${status}:${address ?? ''}`);
    if (suppressed !== null)
      this.log.warn(
        {
          remote: address,
          status,
          path: (url ?? '').split('?')[0].slice(0, 200),
          reason: message,
          ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
        },
        'HLS request refused',
      );
    res.setHeader('Cache-Control', 'no-cache');
    reply(res, status, errorName(status), message);
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
