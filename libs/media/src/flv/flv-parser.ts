import {
  FLV_HEADER_SIZE,
  FLV_MAX_TAG_SIZE,
  FLV_TAG_HEADER_SIZE,
  FlvHeader,
  FlvTag,
  FlvTagType,
} from './flv-tag';
import { wireTag } from './wire-tag';

export class FlvParseError extends Error {
  constructor(message: string) {
    super(`invalid FLV stream: ${message}`);
    this.name = FlvParseError.name;
  }
}

export interface FlvParserOptions {
  /** Tags larger than this are rejected as corrupt (default 8 MiB, well under the 24-bit maximum). */
  maxTagSize?: number;
  /** Parse a bare tag stream with no FLV header in front (PreviousTagSize0 first, then the tags). */
  headerless?: boolean;
  /**
   * The chunks pushed become the parser's (default): the tags' wire forms are views of them that `retimed`
   * may patch in place. False for bytes the caller keeps (a file in memory): the wires are never modified.
   */
  ownsInput?: boolean;
}

const KNOWN_TAG_TYPES = new Set<number>([FlvTagType.Audio, FlvTagType.Video, FlvTagType.Script]);
/** PreviousTagSize: 4 bytes after the header (PreviousTagSize0) and after every tag. */
const PTS = 4;

/**
 * Incremental FLV demuxer. Feed it chunks as they arrive from a socket; it returns the complete tags
 * and keeps any partial tag until the next chunk. Corrupt input raises FlvParseError and leaves the
 * parser failed: the caller closes the connection. It never loops without consuming input.
 *
 * After the header and PreviousTagSize0 the stream is read in units of "tag + its PreviousTagSize", so a
 * tag's `wire` (header, body, PreviousTagSize) and `data` are views of the chunk it arrived in: no copy per
 * tag. Only a unit that spans chunks is copied, once, into a buffer of its own. A view pins its whole chunk
 * in memory, which is fine: a relay keeps a tag at most for a GOP (the GOP cache, a send queue bounded in
 * bytes and time, a standby's few seconds of history), and consecutive tags share their chunks, so what is
 * pinned is the GOP's own bytes plus at most a chunk at each end (and the few chunks holding the headers).
 */
export class FlvParser {
  /** The start of a unit that did not fit in the chunks so far: views of them, joined once it is whole. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Bytes that must be held before parsing can make progress (the rest of a header or unit). */
  private needed = 0;
  private phase: 'header' | 'pts0' | 'tags';
  private failed: FlvParseError | null = null;
  private readonly maxTagSize: number;
  private readonly ownsInput: boolean;
  header: FlvHeader | null = null;

  constructor(options: FlvParserOptions = {}) {
    this.maxTagSize = Math.min(options.maxTagSize ?? 8 * 1024 * 1024, FLV_MAX_TAG_SIZE);
    this.phase = options.headerless ? 'pts0' : 'header';
    this.ownsInput = options.ownsInput ?? true;
  }

  /** Bytes held back waiting for the rest of a tag. */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  push(chunk: Buffer): FlvTag[] {
    if (this.failed) throw this.failed;
    const tags: FlvTag[] = [];
    try {
      let rest = chunk;
      while (this.heldBytes > 0) {
        const want = this.needed - this.heldBytes;
        if (rest.length < want) {
          this.hold(rest);
          return tags;
        }
        // The one copy: the unit's start from earlier chunks, its end from this one.
        const unit = Buffer.concat([...this.held, rest.subarray(0, want)], this.needed);
        rest = rest.subarray(want);
        this.held = [];
        this.heldBytes = 0;
        // Either the whole unit is read, or nothing of it (it only told how long the unit is).
        const used = this.parse(unit, tags);
        if (used < unit.length) this.hold(unit.subarray(used));
      }
      const used = this.parse(rest, tags);
      if (used < rest.length) this.hold(rest.subarray(used));
    } catch (err) {
      this.failed = err instanceof FlvParseError ? err : new FlvParseError(String(err));
      this.held = [];
      this.heldBytes = 0;
      throw this.failed;
    }
    return tags;
  }

  /**
   * At the end of the input: the last tag when it lacks its PreviousTagSize (some files end so), with no
   * wire form; null when nothing, or anything else, is held.
   */
  unterminatedTag(): FlvTag | null {
    if (this.phase !== 'tags' || this.heldBytes < FLV_TAG_HEADER_SIZE) return null;
    const buf = Buffer.concat(this.held, this.heldBytes);
    if (buf.length !== FLV_TAG_HEADER_SIZE + buf.readUIntBE(1, 3)) return null;
    this.held = [];
    this.heldBytes = 0;
    return {
      type: buf[0] & 0x1f,
      timestamp: (buf.readUIntBE(4, 3) | (buf[7] << 24)) >>> 0,
      streamId: buf.readUIntBE(8, 3),
      data: buf.subarray(FLV_TAG_HEADER_SIZE),
    };
  }

  /** True once the header was read and PreviousTagSize0 is all that is left of it. */
  get awaitingFirstSize(): boolean {
    return this.phase === 'pts0';
  }

  private hold(bytes: Buffer): void {
    this.held.push(bytes);
    this.heldBytes += bytes.length;
  }

  /** Reads what `buf` holds from its start; returns the bytes consumed and sets `needed` for the rest. */
  private parse(buf: Buffer, tags: FlvTag[]): number {
    let offset = 0;
    if (this.phase === 'header') {
      const end = this.readHeader(buf);
      if (end < 0) return 0;
      offset = end;
      this.phase = 'pts0';
    }
    if (this.phase === 'pts0') {
      if (buf.length - offset < PTS) {
        this.needed = PTS;
        return offset;
      }
      offset += PTS;
      this.phase = 'tags';
    }
    for (;;) {
      const avail = buf.length - offset;
      if (avail < FLV_TAG_HEADER_SIZE) {
        this.needed = FLV_TAG_HEADER_SIZE;
        return offset;
      }
      const type = buf[offset] & 0x1f;
      if (!KNOWN_TAG_TYPES.has(type)) {
        throw new FlvParseError(`unknown tag type ${type} at byte ${offset}`);
      }
      if ((buf[offset] & 0x20) !== 0) {
        throw new FlvParseError('encrypted (filtered) tags are not supported');
      }
      const dataSize = buf.readUIntBE(offset + 1, 3);
      if (dataSize > this.maxTagSize) {
        throw new FlvParseError(`tag of ${dataSize} bytes exceeds the limit of ${this.maxTagSize}`);
      }
      const tagEnd = offset + FLV_TAG_HEADER_SIZE + dataSize;
      const unitEnd = tagEnd + PTS;
      if (buf.length < unitEnd) {
        this.needed = unitEnd - offset;
        return offset;
      }
      const timestamp = (buf.readUIntBE(offset + 4, 3) | (buf[offset + 7] << 24)) >>> 0;
      const streamId = buf.readUIntBE(offset + 8, 3);
      const data = buf.subarray(offset + FLV_TAG_HEADER_SIZE, tagEnd);
      // A PreviousTagSize that disagrees with the tag is not forwarded as it came: such a tag has no wire
      // form and is encoded afresh (readers ignore the field, but a wire must equal the encoder's output).
      tags.push(
        buf.readUInt32BE(tagEnd) === FLV_TAG_HEADER_SIZE + dataSize
          ? wireTag(type, timestamp, streamId, data, buf.subarray(offset, unitEnd), this.ownsInput)
          : { type, timestamp, streamId, data },
      );
      offset = unitEnd;
    }
  }

  private readHeader(buf: Buffer): number {
    if (buf.length < 3) {
      this.needed = 3;
      return -1;
    }
    if (buf.toString('latin1', 0, 3) !== 'FLV') {
      throw new FlvParseError('missing "FLV" signature');
    }
    if (buf.length < FLV_HEADER_SIZE) {
      this.needed = FLV_HEADER_SIZE;
      return -1;
    }
    const dataOffset = buf.readUInt32BE(5);
    if (dataOffset < FLV_HEADER_SIZE || dataOffset > 1024) {
      throw new FlvParseError(`header size ${dataOffset} is out of range`);
    }
    if (buf.length < dataOffset) {
      this.needed = dataOffset;
      return -1;
    }
    const flags = buf[4];
    this.header = {
      version: buf[3],
      hasAudio: (flags & 0x04) !== 0,
      hasVideo: (flags & 0x01) !== 0,
      raw: Buffer.from(buf.subarray(0, dataOffset)),
    };
    return dataOffset;
  }
}

/**
 * Parses a whole FLV file held in memory. The tags' bodies and wire forms are views of `file`, never
 * modified (a tag retimed later gets a fresh encoding).
 */
export function parseFlvFile(file: Buffer): {
  header: FlvHeader;
  tags: FlvTag[];
  trailingPreviousTagSize: boolean;
} {
  const parser = new FlvParser({ maxTagSize: FLV_MAX_TAG_SIZE, ownsInput: false });
  const tags = parser.push(file);
  if (!parser.header) throw new FlvParseError('file too short for an FLV header');
  // A header without PreviousTagSize0, or tags whose last one lacks its PreviousTagSize: no trailing size.
  if (parser.awaitingFirstSize && parser.pendingBytes === 0) {
    return { header: parser.header, tags, trailingPreviousTagSize: false };
  }
  const last = parser.unterminatedTag();
  if (last) tags.push(last);
  const rest = parser.pendingBytes;
  if (rest !== 0) throw new FlvParseError(`file ends inside a tag (${rest} bytes left over)`);
  return { header: parser.header, tags, trailingPreviousTagSize: last === null };
}
