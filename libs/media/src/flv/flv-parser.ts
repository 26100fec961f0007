import {
  FLV_HEADER_SIZE,
  FLV_MAX_TAG_SIZE,
  FLV_TAG_HEADER_SIZE,
  FlvHeader,
  FlvTag,
  FlvTagType,
} from './flv-tag';

export class FlvParseError extends Error {
  constructor(message: string) {
    super(`invalid FLV stream: ${message}`);
    this.name = FlvParseError.name;
  }
}

export interface FlvParserOptions {
  /** Tags larger than this are rejected as corrupt (default 8 MiB, well under the 24-bit maximum). */
  maxTagSize?: number;
  /** Parse a bare tag stream with no FLV header in front. */
  headerless?: boolean;
}

const KNOWN_TAG_TYPES = new Set<number>([FlvTagType.Audio, FlvTagType.Video, FlvTagType.Script]);

/**
 * Incremental FLV demuxer. Feed it chunks as they arrive from a socket; it returns the complete tags
 * and keeps any partial tag until the next chunk. Corrupt input raises FlvParseError and leaves the
 * parser failed: the caller closes the connection. It never loops without consuming input.
 */
export class FlvParser {
  private buffered: Buffer = Buffer.alloc(0);
  /** Chunks not yet joined to `buffered`: joining on every push would copy a large tag over and over. */
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  /** Bytes that must be held before parsing can make progress (the rest of a header or tag). */
  private needed = 0;
  private headerDone: boolean;
  private failed: FlvParseError | null = null;
  private readonly maxTagSize: number;
  header: FlvHeader | null = null;

  constructor(options: FlvParserOptions = {}) {
    this.maxTagSize = Math.min(options.maxTagSize ?? 8 * 1024 * 1024, FLV_MAX_TAG_SIZE);
    this.headerDone = options.headerless ?? false;
  }

  /** Bytes held back waiting for the rest of a tag. */
  get pendingBytes(): number {
    return this.buffered.length + this.queuedBytes;
  }

  push(chunk: Buffer): FlvTag[] {
    if (this.failed) throw this.failed;
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
    if (this.buffered.length + this.queuedBytes < this.needed) return [];
    this.buffered =
      this.buffered.length === 0 && this.queued.length === 1
        ? chunk
        : Buffer.concat([this.buffered, ...this.queued]);
    this.queued = [];
    this.queuedBytes = 0;
    const tags: FlvTag[] = [];
    let offset = 0;
    try {
      if (!this.headerDone) {
        const end = this.readHeader();
        if (end < 0) return tags;
        offset = end;
      }
      for (;;) {
        // Each tag is preceded by a PreviousTagSize (4 bytes) in the file layout:
        // header | PTS0 | tag1 | PTS1 | tag2 | ...  We consume "PTS + tag" units.
        if (this.buffered.length - offset < 4 + FLV_TAG_HEADER_SIZE) {
          this.needed = 4 + FLV_TAG_HEADER_SIZE;
          break;
        }
        const tagStart = offset + 4;
        const type = this.buffered[tagStart] & 0x1f;
        if (!KNOWN_TAG_TYPES.has(type)) {
          throw new FlvParseError(`unknown tag type ${type} at byte ${tagStart}`);
        }
        if ((this.buffered[tagStart] & 0x20) !== 0) {
          throw new FlvParseError('encrypted (filtered) tags are not supported');
        }
        const dataSize = this.buffered.readUIntBE(tagStart + 1, 3);
        if (dataSize > this.maxTagSize) {
          throw new FlvParseError(`tag of ${dataSize} bytes exceeds the limit of ${this.maxTagSize}`);
        }
        const tagEnd = tagStart + FLV_TAG_HEADER_SIZE + dataSize;
        if (this.buffered.length < tagEnd) {
          this.needed = tagEnd - offset;
          break;
        }
        const timestamp =
          (this.buffered.readUIntBE(tagStart + 4, 3) | (this.buffered[tagStart + 7] << 24)) >>> 0;
        const streamId = this.buffered.readUIntBE(tagStart + 8, 3);
        // Copy so that the tag does not pin the whole socket chunk in memory.
        const data = Buffer.from(this.buffered.subarray(tagStart + FLV_TAG_HEADER_SIZE, tagEnd));
        tags.push({ type, timestamp, streamId, data });
        offset = tagEnd;
      }
    } catch (err) {
      this.failed = err instanceof FlvParseError ? err : new FlvParseError(String(err));
      this.buffered = Buffer.alloc(0);
      this.queued = [];
      this.queuedBytes = 0;
      throw this.failed;
    }
    this.buffered = offset === 0 ? this.buffered : Buffer.from(this.buffered.subarray(offset));
    return tags;
  }

  private readHeader(): number {
    if (this.buffered.length < 3) {
      this.needed = 3;
      return -1;
    }
    if (this.buffered.toString('latin1', 0, 3) !== 'FLV') {
      throw new FlvParseError('missing "FLV" signature');
    }
    if (this.buffered.length < FLV_HEADER_SIZE) {
      this.needed = FLV_HEADER_SIZE;
      return -1;
    }
    const dataOffset = this.buffered.readUInt32BE(5);
    if (dataOffset < FLV_HEADER_SIZE || dataOffset > 1024) {
      throw new FlvParseError(`header size ${dataOffset} is out of range`);
    }
    if (this.buffered.length < dataOffset) {
      this.needed = dataOffset;
      return -1;
    }
    const flags = this.buffered[4];
    this.header = {
      version: this.buffered[3],
      hasAudio: (flags & 0x04) !== 0,
      hasVideo: (flags & 0x01) !== 0,
      raw: Buffer.from(this.buffered.subarray(0, dataOffset)),
    };
    this.headerDone = true;
    return dataOffset;
  }
}

/** Parses a whole FLV file held in memory. */
export function parseFlvFile(file: Buffer): {
  header: FlvHeader;
  tags: FlvTag[];
  trailingPreviousTagSize: boolean;
} {
  const parser = new FlvParser({ maxTagSize: FLV_MAX_TAG_SIZE });
  const tags = parser.push(file);
  if (!parser.header) throw new FlvParseError('file too short for an FLV header');
  const rest = parser.pendingBytes;
  if (rest !== 0 && rest !== 4) throw new FlvParseError(`file ends inside a tag (${rest} bytes left over)`);
  return { header: parser.header, tags, trailingPreviousTagSize: rest === 4 };
}
