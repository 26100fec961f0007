/**
 * What a light player needs to tell whether it keeps up with real time: the media timestamp of each tag as
 * it arrives, without copying or parsing the payload. FlvTagClock reads an HTTP-FLV body (after the HTTP
 * head), RtmpMessageClock an RTMP chunk stream (after the handshake); both call `onTag(type, timestamp)` for
 * every audio and video message. LagMeter turns (arrival, timestamp) pairs into how far behind the most live
 * moment a player has fallen.
 */

export type TagListener = (type: number, timestamp: number) => void;

/** FLV: a 9-byte file header and 4-byte PreviousTagSize, then per tag an 11-byte header, the body and 4 bytes. */
export class FlvTagClock {
  private skip = 13;
  private head = Buffer.alloc(11);
  private headLen = 0;

  constructor(private readonly onTag: TagListener) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(11 - this.headLen, chunk.length - i);
      chunk.copy(this.head, this.headLen, i, i + n);
      this.headLen += n;
      i += n;
      if (this.headLen < 11) return;
      this.headLen = 0;
      const type = this.head[0] & 0x1f;
      const size = this.head.readUIntBE(1, 3);
      const timestamp = (this.head.readUIntBE(4, 3) | (this.head[7] << 24)) >>> 0;
      if (type === 8 || type === 9) this.onTag(type, timestamp);
      this.skip = size + 4;
    }
  }
}

interface ChunkStream {
  timestamp: number;
  delta: number;
  length: number;
  type: number;
  extended: boolean;
  /** Bytes of the current message still to come. */
  remaining: number;
}

/**
 * RTMP chunk stream (server to player): basic header (1–3 bytes), message header by fmt (11, 7, 3 or 0
 * bytes), an extended timestamp when the 24-bit field is 0xFFFFFF, then up to chunk-size bytes of payload.
 * Only Set Chunk Size (type 1) payloads are read; everything else is skipped.
 */
export class RtmpMessageClock {
  private chunkSize = 128;
  private readonly streams = new Map<number, ChunkStream>();
  private pending: Buffer | null = null;
  /** Payload bytes of the current chunk still to skip, and the stream they belong to. */
  private payloadLeft = 0;
  private current: ChunkStream | null = null;
  private setChunk: Buffer | null = null;

  constructor(private readonly onTag: TagListener) {}

  push(data: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, data]) : data;
    this.pending = null;
    let i = 0;
    for (;;) {
      if (this.payloadLeft > 0) {
        const n = Math.min(this.payloadLeft, buf.length - i);
        if (this.setChunk) this.setChunk = Buffer.concat([this.setChunk, buf.subarray(i, i + n)]);
        this.payloadLeft -= n;
        i += n;
        if (this.payloadLeft > 0) return;
        this.endChunk();
      }
      if (i >= buf.length) return;
      const used = this.header(buf, i);
      if (used === 0) {
        this.pending = Buffer.from(buf.subarray(i));
        return;
      }
      i += used;
    }
  }

  /** Parses one chunk header at `i`; 0 when it is not all there yet. */
  private header(buf: Buffer, i: number): number {
    if (i >= buf.length) return 0;
    const fmt = buf[i] >> 6;
    let csid = buf[i] & 0x3f;
    let p = i + 1;
    if (csid === 0) {
      if (buf.length < p + 1) return 0;
      csid = 64 + buf[p];
      p += 1;
    } else if (csid === 1) {
      if (buf.length < p + 2) return 0;
      csid = 64 + buf[p] + buf[p + 1] * 256;
      p += 2;
    }
    const size = [11, 7, 3, 0][fmt];
    if (buf.length < p + size) return 0;
    const s = this.streams.get(csid) ?? {
      timestamp: 0,
      delta: 0,
      length: 0,
      type: 0,
      extended: false,
      remaining: 0,
    };
    let field = s.extended && fmt === 3 ? 0xffffff : 0;
    if (fmt < 3) field = buf.readUIntBE(p, 3);
    if (fmt < 2) {
      s.length = buf.readUIntBE(p + 3, 3);
      s.type = buf[p + 6];
    }
    p += size;
    const extended = field === 0xffffff;
    if (extended) {
      if (buf.length < p + 4) return 0;
      field = buf.readUInt32BE(p);
      p += 4;
    }
    if (fmt < 3) s.extended = extended;
    const starts = s.remaining === 0;
    if (fmt === 0) {
      s.timestamp = field;
      s.delta = 0;
    } else if (fmt < 3) {
      s.delta = field;
      s.timestamp = (s.timestamp + field) >>> 0;
    } else if (starts) s.timestamp = (s.timestamp + s.delta) >>> 0;
    if (starts) s.remaining = s.length;
    this.streams.set(csid, s);
    this.current = s;
    this.payloadLeft = Math.min(s.remaining, this.chunkSize);
    if (starts && s.type === 1) this.setChunk = Buffer.alloc(0);
    if (this.payloadLeft === 0) this.endChunk();
    return p - i;
  }

  private endChunk(): void {
    const s = this.current!;
    s.remaining -= Math.min(s.remaining, this.chunkSize);
    if (s.remaining > 0) return;
    if (s.type === 1 && this.setChunk && this.setChunk.length >= 4) {
      this.chunkSize = this.setChunk.readUInt32BE(0) & 0x7fffffff;
      this.setChunk = null;
    }
    if (s.type === 8 || s.type === 9) this.onTag(s.type, s.timestamp);
  }
}

/**
 * How far a player is behind live: each tag's arrival minus its timestamp, against the smallest such value
 * seen (the most live the player has been). A timestamp that goes back by more than a second (a new
 * publish, a loop the server did not rebase) starts the baseline over.
 */
export class LagMeter {
  private base = Infinity;
  private lastTs = -1;
  maxLagMs = 0;

  tag(timestamp: number, arrivalMs: number): void {
    if (this.lastTs >= 0 && timestamp < this.lastTs - 1000) this.base = Infinity;
    this.lastTs = timestamp;
    const d = arrivalMs - timestamp;
    if (d < this.base) this.base = d;
    this.maxLagMs = Math.max(this.maxLagMs, d - this.base);
  }

  /** Starts a new window for maxLagMs; the baseline stays. */
  reset(): void {
    this.maxLagMs = 0;
  }
}
