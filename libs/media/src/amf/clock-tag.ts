import { FlvTag, FlvTagType } from '../flv/flv-tag';
import { decodeScriptData, encodeScriptData, scriptDataName } from './amf0';

/** The script tag the source's relay stamps into its stream once a second (docs/RELAY.md, "Wall clock"). */
export const CLOCK_TAG_NAME = 'onAstralClock';

/** A script tag `onAstralClock { wallClockMs }` on the stream's timeline at `timestamp`. */
export function clockTag(timestamp: number, wallClockMs: number): FlvTag {
  return {
    type: FlvTagType.Script,
    timestamp,
    streamId: 0,
    data: encodeScriptData(CLOCK_TAG_NAME, { wallClockMs }),
  };
}

/** Is this the source's wall-clock stamp (not metadata, never cached as a header or in a GOP)? */
export function isClockTag(tag: FlvTag): boolean {
  return tag.type === FlvTagType.Script && scriptDataName(tag.data) === CLOCK_TAG_NAME;
}

/** The wall-clock time a clock tag carries, or null. */
export function clockTagTime(tag: FlvTag): number | null {
  if (!isClockTag(tag)) return null;
  const v = decodeScriptData(tag.data)?.fields.wallClockMs;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
