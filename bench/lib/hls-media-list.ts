import * as HLS from 'hls-parser';
import { HLS_MSN_PARAM, HLS_PART_PARAM } from '@astral/contracts';

type MediaPlaylist = HLS.types.MediaPlaylist;

/**
 * A media playlist seen as what a player fetches: every segment and part, with its media sequence number,
 * its program date time and where it starts within its segment. Pure: the HLS client (hls-client.ts) and
 * the tests read playlists through it.
 */

/** One fetchable thing a playlist advertises. */
export interface HlsMediaEntry {
  kind: 'segment' | 'part';
  /** As written in the playlist (relative to the playlist's URL). */
  uri: string;
  msn: number;
  /** The part's index within its segment (from 0); undefined for a segment. */
  part?: number;
  /** EXT-X-PRELOAD-HINT: advertised before it exists (the server answers once it does). */
  hint: boolean;
  /** The segment's EXT-X-PROGRAM-DATE-TIME in ms (given, or the previous segment's plus its duration). */
  pdtMs: number | null;
  /** Where this part starts within its segment, in ms (0 for a segment and its first part). */
  offsetMs: number;
  /** EXTINF or the part's DURATION, in ms; null for a hint or a segment still in progress. */
  durationMs: number | null;
  /** The segment is preceded by EXT-X-DISCONTINUITY. */
  discontinuity: boolean;
  /** The init segment (EXT-X-MAP URI) this media needs, if any. */
  mapUri: string | null;
}

/**
 * Parses a media playlist: leniently by default (a player carries on), or strictly (every RFC 8216bis rule
 * hls-parser knows throws). hls-parser's options are global, so they are set on every call.
 */
export function parseMediaPlaylist(text: string, strict = false): MediaPlaylist {
  HLS.setOptions({ strictMode: strict, silent: true });
  const parsed = HLS.parse(text);
  if (parsed.isMasterPlaylist) throw new Error('expected a media playlist, got a multivariant playlist');
  return parsed;
}

/** Every segment (with a URI) and every part (hints included) of the playlist, in playlist order. */
export function mediaEntries(playlist: MediaPlaylist): HlsMediaEntry[] {
  const out: HlsMediaEntry[] = [];
  let previous: { pdtMs: number | null; durationMs: number | null } | null = null;
  for (const seg of playlist.segments) {
    const given = seg.programDateTime ? seg.programDateTime.getTime() : null;
    const derived: number | null =
      previous && previous.pdtMs !== null && previous.durationMs !== null
        ? previous.pdtMs + previous.durationMs
        : null;
    const pdtMs: number | null = given ?? derived;
    const complete = Boolean(seg.uri);
    const durationMs = complete && Number.isFinite(seg.duration) ? seg.duration * 1000 : null;
    const mapUri = seg.map?.uri ?? null;
    const discontinuity = Boolean(seg.discontinuity);
    let offsetMs = 0;
    for (const [i, p] of seg.parts.entries()) {
      const partMs = p.duration !== undefined && !p.hint ? p.duration * 1000 : null;
      out.push({
        kind: 'part',
        uri: p.uri,
        msn: seg.mediaSequenceNumber,
        part: i,
        hint: p.hint,
        pdtMs,
        offsetMs,
        durationMs: partMs,
        discontinuity,
        mapUri,
      });
      offsetMs += partMs ?? 0;
    }
    if (complete)
      out.push({
        kind: 'segment',
        uri: seg.uri,
        msn: seg.mediaSequenceNumber,
        hint: false,
        pdtMs,
        offsetMs: 0,
        durationMs,
        discontinuity,
        mapUri,
      });
    previous = { pdtMs, durationMs };
  }
  return out;
}

/** The part a blocking reload asks for next (`_HLS_msn`, `_HLS_part`): the one after the last complete part. */
export function nextPartToAwait(playlist: MediaPlaylist): { msn: number; part: number } | null {
  const last = playlist.segments.at(-1);
  if (!last) return null;
  const done = last.parts.filter((p) => !p.hint).length;
  // A segment with a URI is complete; an entry without one (hls-parser's in-progress segment) has parts only.
  if (last.uri) return { msn: last.mediaSequenceNumber + 1, part: 0 };
  if (done === 0) {
    // Only a hint so far: the hinted part is part 0 of this segment.
    return { msn: last.mediaSequenceNumber, part: 0 };
  }
  return { msn: last.mediaSequenceNumber, part: done };
}

/** The media sequence number of the newest complete segment, or null before the first. */
export function lastCompleteMsn(playlist: MediaPlaylist): number | null {
  const done = playlist.segments.filter((s) => s.uri);
  return done.length ? done[done.length - 1].mediaSequenceNumber : null;
}

/** A playlist URL with the blocking-reload parameters of RFC 8216bis 6.2.5.2. */
export function blockingReloadUrl(playlistUrl: string, msn: number, part?: number): string {
  const u = new URL(playlistUrl);
  u.searchParams.set(HLS_MSN_PARAM, String(msn));
  if (part !== undefined) u.searchParams.set(HLS_PART_PARAM, String(part));
  return u.toString();
}
