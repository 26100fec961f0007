/**
 * The RTMP chunk stream (RTMP 1.0 spec, 5.3), both ways, for the bench's own RTMP publisher and frame player
 * (bench/peers/rtmp-publisher.ts, bench/peers/rtmp-frame-player.ts): a reader that reassembles messages
 * with their timestamps, a writer, and the few AMF0 values the commands need. Pure.
 */

export interface RtmpMessage {
  csid: number;
  /** 1 set chunk size, 8 audio, 9 video, 18 data (AMF0), 20 command (AMF0), … */
  type: number;
  streamId: number;
  /** Milliseconds (32 bits): what an FLV tag of this message carries. */
  timestamp: number;
  payload: Buffer;
}

export const RTMP_SET_CHUNK_SIZE = 1;
export const RTMP_AUDIO = 8;
export const RTMP_VIDEO = 9;
export const RTMP_DATA = 18;
export const RTMP_COMMAND = 20;

const EXTENDED = 0xffffff;

interface ChunkState {
  timestamp: number;
  /** The last timestamp field read (absolute after fmt 0, a delta after fmt 1/2): fmt 3 adds it again. */
  tsField: number;
  extended: boolean;
  length: number;
  type: number;
  streamId: number;
  parts: Buffer[];
  have: number;
}

/**
 * Reassembles messages from the bytes after the handshake. Follows ffmpeg's reading of fmt 3 at a message
 * start (the previous timestamp field is added again) and of the extended timestamp (repeated on every
 * chunk of a message whose header had one). Honours the peer's Set Chunk Size.
 */
export class RtmpChunkReader {
  chunkSize = 128;
  private buf: Buffer = Buffer.alloc(0);
  private readonly streams = new Map<number, ChunkState>();

  push(data: Buffer): RtmpMessage[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    const out: RtmpMessage[] = [];
    for (;;) {
      const used = this.readChunk(out);
      if (used === 0) break;
      this.buf = this.buf.subarray(used);
    }
    return out;
  }

  /** Reads one chunk at the start of the buffer; 0 when it is not all there yet. */
  private readChunk(out: RtmpMessage[]): number {
    const b = this.buf;
    if (b.length < 1) return 0;
    const fmt = b[0] >> 6;
    let at = 1;
    let csid = b[0] & 0x3f;
    if (csid === 0) {
      if (b.length < 2) return 0;
      csid = 64 + b[1];
      at = 2;
    } else if (csid === 1) {
      if (b.length < 3) return 0;
      csid = 64 + b[1] + b[2] * 256;
      at = 3;
    }
    const headerLen = [11, 7, 3, 0][fmt];
    if (b.length < at + headerLen) return 0;
    const prev = this.streams.get(csid);
    if (fmt !== 0 && !prev)
      throw new Error(`RTMP chunk fmt ${fmt} on chunk stream ${csid} with no header before`);
    const st: ChunkState = prev ?? {
      timestamp: 0,
      tsField: 0,
      extended: false,
      length: 0,
      type: 0,
      streamId: 0,
      parts: [],
      have: 0,
    };
    const starting = st.have === 0;
    let tsField = st.tsField;
    let extended = st.extended;
    if (fmt <= 2) {
      tsField = b.readUIntBE(at, 3);
      extended = tsField === EXTENDED;
    }
    let length = st.length;
    let type = st.type;
    let streamId = st.streamId;
    if (fmt <= 1) {
      length = b.readUIntBE(at + 3, 3);
      type = b[at + 6];
    }
    if (fmt === 0) streamId = b.readUInt32LE(at + 7);
    at += headerLen;
    if (extended) {
      if (b.length < at + 4) return 0;
      if (fmt <= 2) tsField = b.readUInt32BE(at);
      at += 4;
    }
    const remaining = starting ? length : st.length - st.have;
    const take = Math.min(this.chunkSize, remaining);
    if (b.length < at + take) return 0;
    if (starting) {
      st.timestamp = fmt === 0 ? tsField : (st.timestamp + tsField) >>> 0;
      st.length = length;
      st.type = type;
      st.streamId = streamId;
    }
    st.tsField = tsField;
    st.extended = extended;
    st.parts.push(b.subarray(at, at + take));
    st.have += take;
    this.streams.set(csid, st);
    if (st.have >= st.length) {
      const payload = Buffer.concat(st.parts);
      st.parts = [];
      st.have = 0;
      if (st.type === RTMP_SET_CHUNK_SIZE && payload.length >= 4)
        this.chunkSize = payload.readUInt32BE(0) & 0x7fffffff;
      out.push({ csid, type: st.type, streamId: st.streamId, timestamp: st.timestamp, payload });
    }
    return at + take;
  }
}

/** One message as a fmt 0 chunk and fmt 3 continuations of at most `chunkSize` bytes (csid < 64). */
export function encodeRtmpMessage(
  m: Omit<RtmpMessage, 'timestamp'> & { timestamp?: number },
  chunkSize: number,
): Buffer {
  const ts = (m.timestamp ?? 0) >>> 0;
  const extended = ts >= EXTENDED;
  const head = Buffer.alloc(12 + (extended ? 4 : 0));
  head[0] = m.csid & 0x3f;
  head.writeUIntBE(extended ? EXTENDED : ts, 1, 3);
  head.writeUIntBE(m.payload.length, 4, 3);
  head[7] = m.type;
  head.writeUInt32LE(m.streamId, 8);
  if (extended) head.writeUInt32BE(ts, 12);
  const parts: Buffer[] = [head];
  for (let at = 0; at < m.payload.length || at === 0; at += chunkSize) {
    if (at > 0) {
      const cont = Buffer.alloc(extended ? 5 : 1);
      cont[0] = 0xc0 | (m.csid & 0x3f);
      if (extended) cont.writeUInt32BE(ts, 1);
      parts.push(cont);
    }
    parts.push(m.payload.subarray(at, at + chunkSize));
    if (m.payload.length === 0) break;
  }
  return Buffer.concat(parts);
}

export function amfString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const h = Buffer.alloc(3);
  h[0] = 0x02;
  h.writeUInt16BE(b.length, 1);
  return Buffer.concat([h, b]);
}

export function amfNumber(n: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = 0x00;
  b.writeDoubleBE(n, 1);
  return b;
}

export const amfNull = (): Buffer => Buffer.from([0x05]);

export function amfObject(o: Record<string, string | number>): Buffer {
  const parts: Buffer[] = [Buffer.from([0x03])];
  for (const [k, v] of Object.entries(o)) {
    const key = Buffer.from(k, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(key.length);
    parts.push(len, key, typeof v === 'number' ? amfNumber(v) : amfString(v));
  }
  parts.push(Buffer.from([0x00, 0x00, 0x09]));
  return Buffer.concat(parts);
}

/** The name of an AMF0 command or data message (its first value, a string), or null. */
export function amfName(payload: Buffer): string | null {
  if (payload.length < 3 || payload[0] !== 0x02) return null;
  const n = payload.readUInt16BE(1);
  return payload.length < 3 + n ? null : payload.toString('utf8', 3, 3 + n);
}

/** An AMF0 command message (type 20): name, transaction id, then the arguments. */
export function rtmpCommand(
  at: { csid: number; streamId: number; chunkSize: number },
  name: string,
  tx: number,
  ...args: Buffer[]
): Buffer {
  const payload = Buffer.concat([amfString(name), amfNumber(tx), ...args]);
  return encodeRtmpMessage(
    { csid: at.csid, type: RTMP_COMMAND, streamId: at.streamId, payload },
    at.chunkSize,
  );
}
