import { FLV_HEADER_SIZE, FLV_TAG_HEADER_SIZE, FlvTag, FlvTagType } from './flv-tag';
import { wireTag } from './wire-tag';

/** The 9-byte FLV file header followed by PreviousTagSize0 (0). */
export function encodeFlvHeader(hasAudio = true, hasVideo = true): Buffer {
  const buf = Buffer.alloc(FLV_HEADER_SIZE + 4);
  buf.write('FLV', 0, 'latin1');
  buf[3] = 1;
  buf[4] = (hasAudio ? 0x04 : 0) | (hasVideo ? 0x01 : 0);
  buf.writeUInt32BE(FLV_HEADER_SIZE, 5);
  return buf;
}

/**
 * One tag in wire form: the 11-byte tag header, the body, then its PreviousTagSize.
 * This is the unit written to a socket after the file header.
 */
export function encodeFlvTag(tag: FlvTag, timestamp = tag.timestamp): Buffer {
  const size = tag.data.length;
  const buf = Buffer.allocUnsafe(FLV_TAG_HEADER_SIZE + size + 4);
  buf[0] = tag.type;
  buf.writeUIntBE(size, 1, 3);
  const ts = timestamp >>> 0;
  buf.writeUIntBE(ts & 0xffffff, 4, 3);
  buf[7] = (ts >>> 24) & 0xff;
  buf.writeUIntBE(tag.streamId & 0xffffff, 8, 3);
  tag.data.copy(buf, FLV_TAG_HEADER_SIZE);
  buf.writeUInt32BE(FLV_TAG_HEADER_SIZE + size, FLV_TAG_HEADER_SIZE + size);
  return buf;
}

/** The tag's wire form: the one it carries (no copy) or, for a tag built in memory, a fresh encoding. */
export function wireOf(tag: FlvTag): Buffer {
  return tag.wire ?? encodeFlvTag(tag);
}

const TAG_TYPES = new Set<FlvTagType>([FlvTagType.Audio, FlvTagType.Video, FlvTagType.Script]);

/**
 * The inverse of encodeFlvTag: one whole tag in wire form (header, body, PreviousTagSize) back to a tag
 * whose body is a view into `wire` (no copy) and which carries `wire` as its wire form, shared (never
 * modified: a retimed tag gets a fresh encoding). Null when `wire` is not exactly one consistent tag (for
 * example the file header, or a tag cut short), so a caller can fall back to the streaming parser.
 */
export function decodeFlvTag(wire: Buffer): FlvTag | null {
  if (wire.length < FLV_TAG_HEADER_SIZE + 4) return null;
  const type = (wire[0] & 0x1f) as FlvTagType;
  if (!TAG_TYPES.has(type)) return null;
  const size = wire.readUIntBE(1, 3);
  if (
    wire.length !== FLV_TAG_HEADER_SIZE + size + 4 ||
    wire.readUInt32BE(FLV_TAG_HEADER_SIZE + size) !== FLV_TAG_HEADER_SIZE + size
  )
    return null;
  return wireTag(
    type,
    (wire.readUIntBE(4, 3) | (wire[7] << 24)) >>> 0,
    wire.readUIntBE(8, 3),
    wire.subarray(FLV_TAG_HEADER_SIZE, FLV_TAG_HEADER_SIZE + size),
    wire,
    false,
  );
}

/**
 * Rebuilds a file from a parsed header and tags. With the header's raw bytes and the tags
 * unchanged, the output equals the input byte for byte.
 */
export function encodeFlvFile(headerRaw: Buffer, tags: FlvTag[], trailingPreviousTagSize = true): Buffer {
  const parts: Buffer[] = [headerRaw, Buffer.alloc(4)];
  tags.forEach((tag, i) => {
    const encoded = encodeFlvTag(tag);
    // PreviousTagSize of the last tag is only written if the source had one.
    parts.push(
      i === tags.length - 1 && !trailingPreviousTagSize ? encoded.subarray(0, encoded.length - 4) : encoded,
    );
  });
  return Buffer.concat(parts);
}
