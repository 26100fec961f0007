import type { HlsStreamStats } from '@astral/contracts';
import type { FlvTag } from '../flv/flv-tag';

/**
 * The public face of the HLS segmenter (libs/media/src/hls/hls-segmenter.ts), which the relay drives
 * (apps/relay/src/hls): FLV tags in, CMAF init segments, parts, segments and playlists out. Pure: no timers,
 * no I/O; the caller passes the wall clock and waits on `onChange` for blocking requests.
 */

export interface HlsSegmenterSettings {
  /** PART-TARGET in ms: no part is longer (the keyframe that ends a segment starts a new part; one inside a segment does not, see docs/HLS.md). */
  partTargetMs: number;
  /** A segment ends at the first keyframe at or past this duration. */
  segmentTargetMs: number;
  /** Completed segments kept and listed. */
  windowSegments: number;
  /** Bytes of completed segments kept, at most (the oldest go first). */
  windowBytes: number;
}

export type HlsPlaylistKind = 'plain' | 'll';

/** What `find` says of a media name asked for. */
export type HlsMediaLookup =
  | { kind: 'ready'; chunks: Buffer[]; bytes: number }
  /** Not there yet but next in line (the preload hint, or the part/segment after it): wait for onChange. */
  | { kind: 'pending' }
  /** Gone from the window, never existed, or too far ahead to wait for. */
  | { kind: 'missing'; reason: string };

/** Where a blocking playlist request stands (`_HLS_msn`, `_HLS_part`). */
export type HlsBlockingState =
  | { kind: 'ready' }
  | { kind: 'pending' }
  /** More than two segments beyond the live edge (RFC 8216bis 6.2.5.2: answer 400). */
  | { kind: 'too-far'; reason: string };

/** The segmenter's figures, as the relay's stats carry them (one shape, in libs/contracts). */
export type HlsSegmenterStats = HlsStreamStats;

export interface HlsSegmenterApi {
  readonly epoch: string;
  /** Every tag of the stream, in order (metadata, sequence headers, clock tags, audio, video). */
  push(tag: FlvTag, wallClockMs: number): void;
  /** No more tags: the segment in progress is closed and playlists end with EXT-X-ENDLIST. */
  end(): void;
  /** Ready once the first segment has started (an init segment and at least one part exist). */
  readonly started: boolean;
  /** At least one whole segment is listed (what a plain player, and hls.js at its start, need of a playlist). */
  readonly hasSegment: boolean;
  /** The playlist text; null before `started`. */
  playlist(kind: HlsPlaylistKind): string | null;
  /** Where a blocking reload for msn/part stands (part undefined: the whole segment msn). */
  blocking(msn: number, part: number | undefined): HlsBlockingState;
  /** The bytes of a media name under this epoch: `init<k>.mp4`, `s<msn>.m4s`, `p<msn>.<part>.m4s`. */
  find(name: string): HlsMediaLookup;
  /** Called after every change that can satisfy a waiter (a new part, a new segment, the end). */
  onChange: (() => void) | null;
  stats(): HlsSegmenterStats;
}
