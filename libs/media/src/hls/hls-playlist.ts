import * as HLS from 'hls-parser';
import type { HlsPlaylistKind } from './hls-types';
import type { HlsSegment, HlsWindow } from './hls-window';
import { initName, partName, segmentName } from './hls-media-names';

/**
 * The playlists of a segmenting run, rendered by hls-parser from the window (hls-window.ts). The segmenter
 * renders once per change and caches the text; `playlist()` is called per request.
 *
 * hls-parser prints what it is given: EXT-X-VERSION only when set (6: EXT-X-MAP outside an I-frame
 * playlist needs it, and below 3 it would round EXTINF to integers), float durations as JavaScript prints
 * them (we round to microseconds first), and no EXT-X-MEDIA-SEQUENCE / DISCONTINUITY-SEQUENCE when they are
 * 0 (legal, but we print them always so a reader sees where the window starts).
 */

export const HLS_PLAYLIST_VERSION = 6;

/**
 * Parts are listed for the segment in progress and the two completed before it: RFC 8216bis asks to remove
 * parts more than three target durations from the end, and hls-parser holds a playlist to "parts in the
 * last three segments" (the one in progress counts).
 */
export const LISTED_PART_SEGMENTS = 3;

export interface HlsPlaylistView {
  epoch: string;
  window: HlsWindow;
  partTargetMs: number;
  segmentTargetMs: number;
}

/**
 * EXT-X-TARGETDURATION: the target in whole seconds, or more once a segment so long was listed (a source
 * whose GOP is longer than the target; segments end at keyframes). Segments are compared rounded to the
 * nearest second, as RFC 8216 4.4.3.1 says: a segment that ends one frame past the target (a keyframe a
 * frame late, as at the sample's loop point) does not raise it.
 */
export function targetDurationS(view: HlsPlaylistView): number {
  return Math.max(Math.ceil(view.segmentTargetMs / 1000), Math.round(view.window.longestSegmentS));
}

/** PART-TARGET: the setting, or the longest part so far (a single frame longer than the target). */
export function partTargetS(view: HlsPlaylistView): number {
  return Math.ceil(Math.max(view.partTargetMs, view.window.longestPartS * 1000)) / 1000;
}

export function renderPlaylist(kind: HlsPlaylistKind, view: HlsPlaylistView): string {
  const { window, epoch } = view;
  const ll = kind === 'll';
  const listed = ll && window.live && !window.ended ? [...window.completed, window.live] : window.completed;
  const maps = new Map<number, HLS.types.MediaInitializationSection>();
  const map = (k: number) => {
    let m = maps.get(k);
    if (!m) maps.set(k, (m = new HLS.types.MediaInitializationSection({ uri: `${epoch}/${initName(k)}` })));
    return m;
  };
  const withParts = listed.length - LISTED_PART_SEGMENTS;
  const segments = listed.map(
    (s, i) =>
      new HLS.types.Segment({
        uri: `${epoch}/${segmentName(s.msn)}`,
        duration: seconds(s.durationTicks, s.timescale),
        mediaSequenceNumber: s.msn,
        discontinuity: s.discontinuity,
        map: map(s.init),
        programDateTime: new Date(s.programDateTimeMs),
        parts: ll && i >= withParts ? parts(epoch, s, s === window.live) : [],
      }),
  );
  const partTarget = partTargetS(view);
  const playlist = new HLS.types.MediaPlaylist({
    version: HLS_PLAYLIST_VERSION,
    targetDuration: targetDurationS(view),
    mediaSequenceBase: window.firstMsn,
    discontinuitySequenceBase: window.discontinuitySequence,
    endlist: window.ended,
    segments,
    ...(ll
      ? {
          partTargetDuration: partTarget,
          lowLatencyCompatibility: {
            canBlockReload: true,
            partHoldBack: round(3 * partTarget),
          } as HLS.types.MediaPlaylist['lowLatencyCompatibility'],
        }
      : {}),
  });
  return withSequenceLines(HLS.stringify(playlist), window.firstMsn, window.discontinuitySequence) + '\n';
}

function parts(epoch: string, s: HlsSegment, live: boolean): HLS.types.PartialSegment[] {
  const out = s.parts.map(
    (p, i) =>
      new HLS.types.PartialSegment({
        hint: false,
        uri: `${epoch}/${partName(s.msn, i)}`,
        duration: seconds(p.durationTicks, s.timescale),
        independent: p.independent,
      }),
  );
  // The next part is always the one the segmenter has open (its first sample is already in it).
  if (live)
    out.push(
      new HLS.types.PartialSegment({ hint: true, uri: `${epoch}/${partName(s.msn, s.parts.length)}` }),
    );
  return out;
}

/** hls-parser leaves out EXT-X-MEDIA-SEQUENCE and EXT-X-DISCONTINUITY-SEQUENCE when 0: put them in. */
function withSequenceLines(text: string, msn: number, discontinuitySequence: number): string {
  const lines = text.split('\n');
  const after = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
  if (after('#EXT-X-MEDIA-SEQUENCE:') < 0) {
    const at = Math.max(
      after('#EXT-X-TARGETDURATION:'),
      after('#EXT-X-SERVER-CONTROL:'),
      after('#EXT-X-PART-INF:'),
    );
    lines.splice(at + 1, 0, `#EXT-X-MEDIA-SEQUENCE:${msn}`);
  }
  if (after('#EXT-X-DISCONTINUITY-SEQUENCE:') < 0) {
    lines.splice(
      after('#EXT-X-MEDIA-SEQUENCE:') + 1,
      0,
      `#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence}`,
    );
  }
  return lines.join('\n');
}

function seconds(ticks: number, timescale: number): number {
  return round(ticks / timescale);
}

function round(s: number): number {
  return Math.round(s * 1e6) / 1e6;
}
