import {
  HLS_EPOCH_PATTERN,
  HLS_MSN_PARAM,
  HLS_PART_PARAM,
  PLAY_TOKEN_PARAM,
  STREAM_ID_PATTERN,
  STREAM_ID_RULE,
} from '@astral/contracts';
import type { HlsPlaylistKind } from '@astral/media';

/**
 * The HLS routes of the HTTP-FLV port (libs/contracts hls.ts), parsed strictly. Pure: the listener asks
 * `isHlsTarget` before its FLV routing, HlsHttp answers what `parseHlsTarget` says.
 *
 *   /live/<id>/index.m3u8 | /live/<id>/ll.m3u8 [?_HLS_msn=<n>[&_HLS_part=<i>]] [&play=<token>]
 *   /live/<id>/<epoch>/init<k>.mp4 | s<msn>.m4s | p<msn>.<i>.m4s
 */

/** RFC 8216bis: media sequence numbers fit a signed 32-bit integer; part indexes are small. */
export const HLS_MAX_MSN = 2 ** 31;
export const HLS_MAX_PART = 10_000;
/** Longer request targets are not HLS requests anyone sends (hls.js, Safari, VLC stay far below). */
const MAX_TARGET_LENGTH = 4096;

export type HlsMediaKind = 'init' | 'segment' | 'part';

export type HlsRoute =
  | {
      kind: 'playlist';
      streamId: string;
      playlist: HlsPlaylistKind;
      /** A blocking reload (`_HLS_msn`, `_HLS_part`); undefined without one. */
      msn?: number;
      part?: number;
      token: string | null;
    }
  | {
      kind: 'media';
      streamId: string;
      epoch: string;
      /** The media name as the segmenter knows it (`s12.m4s`). */
      name: string;
      media: HlsMediaKind;
      token: string | null;
    };

export type HlsTarget =
  | { ok: true; route: HlsRoute }
  /** 400: the request is malformed (what is wrong is said). 404: well formed, but no such name. */
  | { ok: false; status: 400 | 404; message: string };

const LIVE_PREFIX = '/live/';
const MEDIA_NAME = /^(?:init(\d{1,4})\.mp4|s(\d{1,10})\.m4s|p(\d{1,10})\.(\d{1,5})\.m4s)$/;
const DECIMAL = /^(0|[1-9]\d{0,9})$/;

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Is this request target for HlsHttp: `/live/<something>/…` (an FLV target has no second slash)? */
export function isHlsTarget(url: string | undefined): boolean {
  if (!url || !url.startsWith(LIVE_PREFIX)) return false;
  return pathOf(url).indexOf('/', LIVE_PREFIX.length) > LIVE_PREFIX.length;
}

/** A decimal integer in [0, max], or a reason. `012`, `+1`, `1e3`, ` 1`, `-1` are not. */
function decimal(name: string, value: string, max: number): number | string {
  if (!DECIMAL.test(value)) return `${name} must be a decimal integer (got "${value.slice(0, 40)}")`;
  const n = Number(value);
  return n <= max ? n : `${name} must be at most ${max}`;
}

function single(query: URLSearchParams, name: string): string | null | { error: string } {
  const all = query.getAll(name);
  if (all.length > 1) return { error: `${name} is given ${all.length} times; give it once` };
  return all.length === 1 ? all[0] : null;
}

function parseQuery(
  raw: string,
  playlist: boolean,
): { token: string | null; msn?: number; part?: number } | { error: string } {
  let query: URLSearchParams;
  try {
    query = new URLSearchParams(raw);
  } catch {
    return { error: 'the query string cannot be read' };
  }
  const token = single(query, PLAY_TOKEN_PARAM);
  if (typeof token === 'object' && token !== null) return token;
  if (!playlist) return { token };
  const msnText = single(query, HLS_MSN_PARAM);
  const partText = single(query, HLS_PART_PARAM);
  if (typeof msnText === 'object' && msnText !== null) return msnText;
  if (typeof partText === 'object' && partText !== null) return partText;
  if (msnText === null && partText !== null)
    return { error: `${HLS_PART_PARAM} without ${HLS_MSN_PARAM} (RFC 8216bis 6.2.5.2); give both` };
  if (msnText === null) return { token };
  const msn = decimal(HLS_MSN_PARAM, msnText, HLS_MAX_MSN);
  if (typeof msn === 'string') return { error: msn };
  if (partText === null) return { token, msn };
  const part = decimal(HLS_PART_PARAM, partText, HLS_MAX_PART);
  if (typeof part === 'string') return { error: part };
  return { token, msn, part };
}

const NO_SUCH_PATH =
  'no such HLS path; play /live/<streamId>/index.m3u8 (HLS) or /live/<streamId>/ll.m3u8 (LL-HLS)';

/** Parses a request target that `isHlsTarget` took. `_HLS_skip` and unknown parameters are ignored. */
export function parseHlsTarget(url: string): HlsTarget {
  const bad = (message: string): HlsTarget => ({ ok: false, status: 400, message });
  if (url.length > MAX_TARGET_LENGTH) return bad(`request target over ${MAX_TARGET_LENGTH} characters`);
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const parts = path.slice(LIVE_PREFIX.length).split('/');
  const streamId = parts[0];
  if (!STREAM_ID_PATTERN.test(streamId)) return bad(`the stream id ${STREAM_ID_RULE}`);
  if (parts.length === 2) {
    const playlist = parts[1] === 'index.m3u8' ? 'plain' : parts[1] === 'll.m3u8' ? 'll' : null;
    if (!playlist) return { ok: false, status: 404, message: NO_SUCH_PATH };
    const query = parseQuery(q < 0 ? '' : url.slice(q + 1), true);
    if ('error' in query) return bad(query.error);
    return { ok: true, route: { kind: 'playlist', streamId, playlist, ...query } };
  }
  if (parts.length !== 3) return { ok: false, status: 404, message: NO_SUCH_PATH };
  const [, epoch, name] = parts;
  if (!HLS_EPOCH_PATTERN.test(epoch))
    return bad('the epoch in a media path is 6-16 lowercase letters or digits (reload the playlist)');
  const m = MEDIA_NAME.exec(name);
  if (!m)
    return { ok: false, status: 404, message: `no media named "${name.slice(0, 40)}"; ${NO_SUCH_PATH}` };
  const msn = m[2] ?? m[3];
  if (msn !== undefined && Number(msn) > HLS_MAX_MSN)
    return bad(`the media sequence number is over ${HLS_MAX_MSN}`);
  if (m[4] !== undefined && Number(m[4]) > HLS_MAX_PART) return bad(`the part index is over ${HLS_MAX_PART}`);
  const query = parseQuery(q < 0 ? '' : url.slice(q + 1), false);
  if ('error' in query) return bad(query.error);
  const media: HlsMediaKind = m[1] !== undefined ? 'init' : m[2] !== undefined ? 'segment' : 'part';
  return { ok: true, route: { kind: 'media', streamId, epoch, name, media, token: query.token } };
}

export type ByteRange = { start: number; end: number };

/**
 * A `Range` header on media (Safari asks `bytes=0-1` first): one range → the bytes to send (206); none, or
 * several ranges (not served) → null (200, the whole body); a range past the end → 'unsatisfiable' (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}
