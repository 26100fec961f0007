import { HLS_INIT_TYPE, HLS_PLAYLIST_TYPE, HLS_SEGMENT_TYPE } from '@astral/contracts';
import type { HlsPlaylistKind } from '@astral/media';
import type { HlsMediaKind } from './hls-routes';

/**
 * The response headers of HLS (docs/RELAY.md "HLS"), pure. Every answer allows any origin (players are web
 * pages on other origins). Media URLs carry the segmenting run's epoch, so each names one set of bytes for
 * ever and may be cached as immutable; playlists change every part and are cached briefly or not at all.
 */

export const HLS_CORS = { 'Access-Control-Allow-Origin': '*' } as const;

export const HLS_OPTIONS_HEADERS = {
  ...HLS_CORS,
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Allow-Headers': 'Range',
  'Access-Control-Max-Age': '600',
} as const;

/** A blocking playlist request waits at most this many target durations (RFC 8216bis: 3). */
export const HLS_BLOCK_TARGETS = 3;

/**
 * Cache-Control of a playlist. Plain: half a target duration (at least 1 s). LL without `_HLS_msn`: the live
 * edge, never cached. LL blocking: the answer for that msn/part never changes, so a CDN may keep it (6 targets).
 */
export function playlistCacheControl(
  kind: HlsPlaylistKind,
  blocking: boolean,
  targetDurationS: number,
): string {
  if (kind === 'plain') return `public, max-age=${Math.max(1, Math.floor(targetDurationS / 2))}`;
  if (!blocking) return 'no-cache';
  return `public, max-age=${6 * targetDurationS}`;
}

export function playlistHeaders(
  kind: HlsPlaylistKind,
  blocking: boolean,
  targetDurationS: number,
  bytes: number,
): Record<string, string | number> {
  return {
    ...HLS_CORS,
    'Content-Type': HLS_PLAYLIST_TYPE,
    'Cache-Control': playlistCacheControl(kind, blocking, targetDurationS),
    'Content-Length': bytes,
  };
}

export const MEDIA_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** Headers of an init segment, segment or part; `range` for a 206 answer of those bytes of `size`. */
export function mediaHeaders(
  media: HlsMediaKind,
  size: number,
  range: { start: number; end: number } | null,
): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    ...HLS_CORS,
    'Content-Type': media === 'init' ? HLS_INIT_TYPE : HLS_SEGMENT_TYPE,
    'Cache-Control': MEDIA_CACHE_CONTROL,
    'Accept-Ranges': 'bytes',
    'Content-Length': range ? range.end - range.start + 1 : size,
  };
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  return headers;
}

/** Seconds a client should wait before asking again after a blocking request timed out (503). */
export function retryAfterS(targetDurationS: number): number {
  return Math.max(1, Math.ceil(targetDurationS / 2));
}

/** The slices of `chunks` (their concatenation) from `start` to `end` inclusive, without copying. */
export function sliceChunks(chunks: Buffer[], start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  for (const c of chunks) {
    const from = Math.max(start - offset, 0);
    const to = Math.min(end + 1 - offset, c.length);
    if (from < to) out.push(c.subarray(from, to));
    offset += c.length;
    if (offset > end) break;
  }
  return out;
}
