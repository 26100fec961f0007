/**
 * RTMP sessions for the fuzz bench, built by a small AMF0 + chunk encoder (what ffmpeg or OBS sends,
 * in the same order): C0+C1, C2, Set Chunk Size, `connect`, `releaseStream`, `FCPublish`,
 * `createStream`, `publish` (or `play`) and a few FLV tags as audio/video messages. The builder
 * records every length field (AMF string lengths, chunk message lengths) so mutations can corrupt them.
 * The whole session is sent in one write: node-media-server parses the handshake as a byte stream
 * and does not check C2 against S1.
 */
import { FlvTag, FlvTagType } from '@astral/media';
import { LengthField } from './mutators';

type AmfValue = string | number | boolean | null | undefined | { [key: string]: AmfValue };

/** Builds a buffer while remembering where its length fields are. */
export class Builder {
  private readonly parts: Buffer[] = [];
  private size = 0;
  readonly fields: LengthField[] = [];

  get length(): number {
    return this.size;
  }

  push(b: Buffer): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  /** Appends another builder's bytes and shifts its length fields. */
  append(other: Builder): this {
    const base = this.size;
    for (const f of other.fields) this.fields.push({ offset: base + f.offset, size: f.size });
    return this.push(other.build());
  }

  uint(value: number, size: 1 | 2 | 3 | 4, isLength = false): this {
    const b = Buffer.alloc(size);
    b.writeUIntBE(value, 0, size);
    if (isLength) this.fields.push({ offset: this.size, size });
    return this.push(b);
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** AMF0 encoding of a value (string 0x02, number 0x00, boolean 0x01, object 0x03, null 0x05, undefined 0x06). */
export function amf0(value: AmfValue, out = new Builder()): Builder {
  if (value === null) return out.uint(0x05, 1);
  if (value === undefined) return out.uint(0x06, 1);
  if (typeof value === 'number') {
    const b = Buffer.alloc(9);
    b[0] = 0x00;
    b.writeDoubleBE(value, 1);
    return out.push(b);
  }
  if (typeof value === 'boolean') return out.uint(0x01, 1).uint(value ? 1 : 0, 1);
  if (typeof value === 'string') {
    const s = Buffer.from(value, 'utf8');
    return out.uint(0x02, 1).uint(s.length, 2, true).push(s);
  }
  out.uint(0x03, 1);
  for (const [k, v] of Object.entries(value)) {
    const key = Buffer.from(k, 'utf8');
    out.uint(key.length, 2, true).push(key);
    amf0(v, out);
  }
  return out.uint(0, 2).uint(0x09, 1);
}

export function amfCommand(...values: AmfValue[]): Builder {
  const b = new Builder();
  for (const v of values) amf0(v, b);
  return b;
}

/**
 * One RTMP message as chunks: a type-0 header (fmt 0, csid < 64), then type-3 continuation headers
 * every `chunkSize` bytes. The 3-byte message length is recorded as a length field.
 */
export function rtmpMessage(
  csid: number,
  type: number,
  streamId: number,
  payload: Builder,
  timestamp = 0,
  chunkSize = 4096,
): Builder {
  const body = payload.build();
  const out = new Builder();
  out
    .uint(csid & 0x3f, 1)
    .uint(Math.min(timestamp, 0xffffff), 3)
    .uint(body.length, 3, true)
    .uint(type, 1);
  const sid = Buffer.alloc(4);
  sid.writeUInt32LE(streamId);
  out.push(sid);
  const headerSize = out.length;
  for (const f of payload.fields)
    if (f.offset < chunkSize) out.fields.push({ offset: headerSize + f.offset, size: f.size });
  for (let at = 0; at < body.length; at += chunkSize) {
    if (at > 0) out.uint(0xc0 | (csid & 0x3f), 1);
    out.push(body.subarray(at, at + chunkSize));
  }
  return out;
}

/** C0 (version 3) + C1 (time, zero, 1528 pattern bytes: the simple handshake) and C2. */
export function handshake(): Builder {
  const c1 = Buffer.alloc(1536);
  for (let i = 8; i < 1536; i++) c1[i] = (i * 31) & 0xff;
  return new Builder().uint(0x03, 1).push(c1).push(Buffer.from(c1));
}

function setChunkSize(size: number): Builder {
  return rtmpMessage(2, 1, 0, new Builder().uint(size, 4, true));
}

export interface RtmpSessionOptions {
  host: string;
  port: number;
  app: string;
  /** The stream name, with its query (e.g. `abc?key=wrong`). */
  stream: string;
  mode: 'publish' | 'play';
  /** FLV tags to send as media messages after `publish`. */
  tags?: readonly FlvTag[];
}

/** A complete publish or play session, as a client sends it. */
export function rtmpSession(o: RtmpSessionOptions): Builder {
  const tcUrl = `rtmp://${o.host}:${o.port}/${o.app}`;
  const s = new Builder().append(handshake()).append(setChunkSize(4096));
  const connect = {
    app: o.app,
    type: 'nonprivate',
    flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)',
    tcUrl,
    fpad: false,
    capabilities: 15,
    audioCodecs: 4071,
    videoCodecs: 252,
    videoFunction: 1,
  };
  s.append(rtmpMessage(3, 20, 0, amfCommand('connect', 1, connect)));
  if (o.mode === 'publish') {
    s.append(rtmpMessage(3, 20, 0, amfCommand('releaseStream', 2, null, o.stream)));
    s.append(rtmpMessage(3, 20, 0, amfCommand('FCPublish', 3, null, o.stream)));
  }
  s.append(rtmpMessage(3, 20, 0, amfCommand('createStream', 4, null)));
  if (o.mode === 'publish') {
    s.append(rtmpMessage(4, 20, 1, amfCommand('publish', 5, null, o.stream, 'live')));
    for (const tag of o.tags ?? []) {
      const csid = tag.type === FlvTagType.Video ? 6 : tag.type === FlvTagType.Audio ? 4 : 5;
      s.append(rtmpMessage(csid, tag.type, 1, new Builder().push(tag.data), tag.timestamp));
    }
  } else {
    s.append(rtmpMessage(4, 20, 1, amfCommand('play', 5, null, o.stream, -2000)));
  }
  return s;
}

/** The known one-packet kill of node-media-server 4.4.3: handshake, then `connect` with no command object. */
export function connectWithoutCommandObject(): Builder {
  return new Builder().append(handshake()).append(rtmpMessage(3, 20, 0, amfCommand('connect', 1)));
}

/** `connect` whose command object has the wrong AMF type (a string, a number, null). */
export function connectWithWrongObject(value: AmfValue): Builder {
  return new Builder().append(handshake()).append(rtmpMessage(3, 20, 0, amfCommand('connect', 1, value)));
}
