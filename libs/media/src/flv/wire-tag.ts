import { FlvTag, FlvTagType } from './flv-tag';

/**
 * A tag that carries its wire form (11-byte header, body, PreviousTagSize) out of sight: `wire` is an
 * accessor, not an own property, so a spread (`{ ...tag, timestamp }`) makes a plain tag without it (never
 * one whose wire disagrees with its new timestamp), and deep equality in specs compares the tag's fields
 * only. `owned`: the bytes are this tag's alone and may be patched in place (see `retimed`); a shared wire
 * (node-media-server's one buffer for all its players, a caller's file) is never modified.
 */
class WireTag implements FlvTag {
  #wire: Buffer | undefined;
  #owned: boolean;

  constructor(
    public type: FlvTagType,
    public timestamp: number,
    public streamId: number,
    public data: Buffer,
    wire: Buffer,
    owned: boolean,
  ) {
    this.#wire = wire;
    this.#owned = owned;
  }

  get wire(): Buffer | undefined {
    return this.#wire;
  }

  /** From now on others hold the wire (a hub's consumers and GOP cache): it is never patched again. */
  static share(tag: WireTag): void {
    tag.#owned = false;
  }

  /** Moves an owned tag to `timestamp` in place, its wire's 4 timestamp bytes patched; false for a shared one. */
  static retime(tag: WireTag, timestamp: number): boolean {
    const wire = tag.#wire;
    if (!wire || !tag.#owned) return false;
    writeWireTimestamp(wire, timestamp);
    tag.timestamp = timestamp;
    return true;
  }
}

/** The tag with its wire form attached (hidden from spreads). `owned`: see WireTag. */
export function withWire(tag: FlvTag, wire: Buffer, owned: boolean): FlvTag {
  return new WireTag(tag.type, tag.timestamp, tag.streamId, tag.data, wire, owned);
}

/**
 * Marks the tag's wire as shared, in place (no allocation): a retimed copy of it gets a fresh encoding and
 * the bytes already handed to consumers never change under them. The hub calls it on every tag it ingests.
 */
export function shareWire(tag: FlvTag): void {
  if (tag instanceof WireTag) WireTag.share(tag);
}

/** A parser's tag: its fields and its wire form, with no intermediate object. */
export function wireTag(
  type: FlvTagType,
  timestamp: number,
  streamId: number,
  data: Buffer,
  wire: Buffer,
  owned: boolean,
): FlvTag {
  return new WireTag(type, timestamp, streamId, data, wire, owned);
}

/** Writes a tag's 32-bit timestamp (24 bits, then the extended byte) into its wire form. */
export function writeWireTimestamp(wire: Buffer, timestamp: number): void {
  const ts = timestamp >>> 0;
  wire[4] = (ts >>> 16) & 0xff;
  wire[5] = (ts >>> 8) & 0xff;
  wire[6] = ts & 0xff;
  wire[7] = (ts >>> 24) & 0xff;
}

/**
 * The tag at `timestamp`. Unchanged: the same tag. Changed, and the tag owns its wire (a parser's tag not
 * yet handed to a hub): the same tag too, moved in place, its timestamp and the wire's 4 timestamp bytes
 * patched (no allocation, no copy), so the caller gives up the tag as it was. Otherwise (a shared wire, or
 * none) a new plain tag, the input left alone; `wireOf` encodes it once, at the hub.
 */
export function retimed(tag: FlvTag, timestamp: number): FlvTag {
  if (tag.timestamp === timestamp) return tag;
  if (tag instanceof WireTag && WireTag.retime(tag, timestamp)) return tag;
  return { type: tag.type, timestamp, streamId: tag.streamId, data: tag.data };
}
