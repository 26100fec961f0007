/**
 * HLS and Low-Latency HLS (issue 15): every relay serves the streams it carries as CMAF (fMP4) HLS, cut from the
 * FLV it already holds. One source for the URL shape, the query parameters and the defaults, shared by the
 * relay that serves them, the agent, the CLI and the directory that hand them out, and the tests.
 *
 *   /live/<streamId>/index.m3u8        plain HLS (any HLS player: VLC, ffplay, TVs)
 *   /live/<streamId>/ll.m3u8           LL-HLS: EXT-X-PART, EXT-X-PRELOAD-HINT, blocking reload
 *   /live/<streamId>/<epoch>/init<k>.mp4          the init segment of the stream's k-th codec configuration
 *   /live/<streamId>/<epoch>/s<msn>.m4s           media segment <msn> (EXT-X-MEDIA-SEQUENCE numbering)
 *   /live/<streamId>/<epoch>/p<msn>.<part>.m4s    part <part> (from 0) of segment <msn>
 *
 * Playlists name the media by relative URIs (`<epoch>/s12.m4s`). The epoch is fresh each time a relay starts
 * segmenting a stream, so a cache (a CDN or reverse proxy in front of a seeder) never mixes two runs that reuse
 * the same sequence numbers: media URLs are immutable.
 */

/** The plain HLS playlist of a stream on a node's HTTP port. */
export function hlsPlaylistPath(streamId: string): string {
  return `/live/${streamId}/index.m3u8`;
}

/** The Low-Latency HLS playlist of a stream on a node's HTTP port. */
export function llHlsPlaylistPath(streamId: string): string {
  return `/live/${streamId}/ll.m3u8`;
}

/** A segmenting run's epoch in media paths: lowercase letters and digits. */
export const HLS_EPOCH_PATTERN = /^[a-z0-9]{6,16}$/;

/** The blocking-reload query parameters of LL-HLS (RFC 8216bis, 6.2.5.2). */
export const HLS_MSN_PARAM = '_HLS_msn';
export const HLS_PART_PARAM = '_HLS_part';
/** Playlist delta updates: Astral does not offer them (no CAN-SKIP-UNTIL), so this parameter is ignored. */
export const HLS_SKIP_PARAM = '_HLS_skip';

/** Defaults of the relay's HLS settings (`--hls-*`, docs/RELAY.md "HLS"). */
export const HLS_DEFAULTS = {
  /** Target duration of a partial segment (EXT-X-PART-INF PART-TARGET): no part is longer. */
  partTargetMs: 333,
  /** A segment ends at the first keyframe at or past this duration. */
  segmentTargetMs: 2000,
  /** Completed segments kept in memory (and listed) per stream. */
  windowSegments: 6,
  /** Bytes of segments kept in memory per stream, at most: older segments go first past it. */
  windowBytes: 64 * 1024 * 1024,
  /** A stream nobody requested HLS of for this long stops being segmented (it starts again on demand). */
  idleMs: 30_000,
} as const;

/** The media types and names the relay serves for HLS. */
export const HLS_PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
export const HLS_SEGMENT_TYPE = 'video/iso.segment';
export const HLS_INIT_TYPE = 'video/mp4';

/** A stream's HLS on a relay, in its stats: the segmenter's own figures (libs/media `HlsSegmenter.stats()`). */
export interface HlsStreamStats {
  /** The segmenting run, in media paths. */
  epoch: string;
  /** Media sequence number of the oldest listed segment, and of the segment in progress. */
  firstMsn: number;
  liveMsn: number;
  segments: number;
  parts: number;
  discontinuities: number;
  /** Bytes held: completed segments, the one in progress, init segments. */
  retainedBytes: number;
  targetDurationS: number;
}
