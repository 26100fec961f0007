/**
 * An FLV file prepared to be published as a live stream that loops: the header, the tags sent once at the
 * start (metadata and sequence headers), the media tags, and the timestamps of each pass. Pure.
 */
import { FlvTag, FlvTagType, isMetadata, isSequenceHeader, isVideoFrame } from '../flv/flv-tag';
import { parseFlvFile } from '../flv/flv-parser';
import { encodeFlvHeader } from '../flv/flv-writer';

export interface FlvLoop {
  /** The FLV header to send first. */
  header: Buffer;
  /** Metadata and sequence headers: sent once, at timestamp 0. */
  preamble: FlvTag[];
  /** The audio and video frames of one pass, in file order. */
  media: FlvTag[];
  /** The timestamp of the first media tag (the output starts at 0). */
  firstTs: number;
  /** Added to a pass's timestamps per loop: the media span plus one frame interval (see loopSpanMs). */
  spanMs: number;
}

/** Splits an FLV file for looping; `name` says which file in the error when it holds no frames. */
export function prepareFlvLoop(file: Buffer, name: string): FlvLoop {
  const parsed = parseFlvFile(file);
  const preamble = parsed.tags.filter((t) => isMetadata(t) || isSequenceHeader(t));
  const media = parsed.tags.filter(
    (t) => !isMetadata(t) && !isSequenceHeader(t) && t.type !== FlvTagType.Script,
  );
  if (media.length === 0) throw new Error(`${name} holds no audio or video frames`);
  return {
    header: encodeFlvHeader(parsed.header.hasAudio, parsed.header.hasVideo),
    preamble,
    media,
    firstTs: Math.min(...media.map((t) => t.timestamp)),
    spanMs: loopSpanMs(media),
  };
}

/** The output timestamp of a media tag of the loop in pass `pass` (from 0). */
export function loopTimestamp(loop: FlvLoop, tag: FlvTag, pass: number): number {
  return tag.timestamp - loop.firstTs + pass * loop.spanMs;
}

/**
 * How far each pass is shifted after the previous one: for each track, its span plus one of its own
 * frame intervals; the longest wins. Every track then stays strictly increasing across the loop, and
 * the video track shows a gap of about one frame.
 */
export function loopSpanMs(tags: FlvTag[]): number {
  let span = 0;
  for (const track of [tags.filter(isVideoFrame), tags.filter((t) => t.type === FlvTagType.Audio)]) {
    if (track.length === 0) continue;
    const ts = track.map((t) => t.timestamp);
    const first = Math.min(...ts);
    const last = Math.max(...ts);
    span = Math.max(span, last - first + medianGap(ts));
  }
  return Math.max(span, 1);
}

/** The typical gap between consecutive timestamps (median), or 40 ms if there are too few. */
export function medianGap(ts: number[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < ts.length; i++) if (ts[i] > ts[i - 1]) gaps.push(ts[i] - ts[i - 1]);
  if (gaps.length === 0) return 40;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)];
}
