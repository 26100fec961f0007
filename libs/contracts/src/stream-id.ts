export const STREAM_ID_MIN_LENGTH = 3;
export const STREAM_ID_MAX_LENGTH = 64;
/**
 * The one stream id pattern. Stream ids double as RTMP stream names, so they stay within node-media-server's
 * safe characters: a lowercase letter or digit, then lowercase letters, digits or dashes.
 */
export const STREAM_ID_PATTERN = new RegExp(
  `^[a-z0-9][a-z0-9-]{${STREAM_ID_MIN_LENGTH - 1},${STREAM_ID_MAX_LENGTH - 1}}$`,
);
/** What STREAM_ID_PATTERN asks, for error messages ("the stream id must be …"). */
export const STREAM_ID_RULE = `must be ${STREAM_ID_MIN_LENGTH}-${STREAM_ID_MAX_LENGTH} lowercase letters, digits or dashes`;
