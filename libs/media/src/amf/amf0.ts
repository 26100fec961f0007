/**
 * A small AMF0 encoder and reader (Action Message Format 0, amf0-file-format-specification.pdf), enough for
 * the script tags Astral writes itself: a name string, then an ECMA array of numbers, strings and booleans.
 * Hand-written: the npm AMF packages are unmaintained or carry whole RTMP stacks; this is 80 lines with a spec.
 */
export type Amf0Value = number | string | boolean;

const NUMBER = 0x00;
const BOOLEAN = 0x01;
const STRING = 0x02;
const ECMA_ARRAY = 0x08;
const OBJECT_END = 0x09;

function encodeShortString(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  if (body.length > 0xffff) throw new Error(`AMF0 string of ${body.length} bytes is too long`);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length, 0);
  return Buffer.concat([len, body]);
}

export function encodeAmf0Value(v: Amf0Value): Buffer {
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = NUMBER;
    b.writeDoubleBE(v, 1);
    return b;
  }
  if (typeof v === 'boolean') return Buffer.from([BOOLEAN, v ? 1 : 0]);
  return Buffer.concat([Buffer.from([STRING]), encodeShortString(v)]);
}

/** An ECMA array (the form onMetaData uses): count, then name/value pairs, then the object-end marker. */
export function encodeAmf0EcmaArray(fields: Record<string, Amf0Value>): Buffer {
  const entries = Object.entries(fields);
  const head = Buffer.alloc(5);
  head[0] = ECMA_ARRAY;
  head.writeUInt32BE(entries.length, 1);
  const parts: Buffer[] = [head];
  for (const [k, v] of entries) parts.push(encodeShortString(k), encodeAmf0Value(v));
  parts.push(Buffer.from([0x00, 0x00, OBJECT_END]));
  return Buffer.concat(parts);
}

/** A script tag body: the handler name (e.g. "onMetaData") and its one ECMA array argument. */
export function encodeScriptData(name: string, fields: Record<string, Amf0Value>): Buffer {
  return Buffer.concat([encodeAmf0Value(name), encodeAmf0EcmaArray(fields)]);
}

/** The handler name of a script tag body, or null if it does not start with an AMF0 string. */
export function scriptDataName(data: Buffer): string | null {
  if (data.length < 3 || data[0] !== STRING) return null;
  const len = data.readUInt16BE(1);
  if (data.length < 3 + len) return null;
  return data.toString('utf8', 3, 3 + len);
}

/**
 * Reads a script tag body written as name + ECMA array (or object) of numbers, strings and booleans.
 * Returns null on anything else or malformed input; never throws.
 */
export function decodeScriptData(data: Buffer): { name: string; fields: Record<string, Amf0Value> } | null {
  const name = scriptDataName(data);
  if (name === null) return null;
  let at = 3 + Buffer.byteLength(name, 'utf8');
  const fields: Record<string, Amf0Value> = {};
  if (at >= data.length) return null;
  const marker = data[at];
  if (marker === ECMA_ARRAY) at += 5;
  else if (marker === 0x03) at += 1;
  else return null;
  for (let n = 0; n < 256; n++) {
    if (at + 3 > data.length) return null;
    const klen = data.readUInt16BE(at);
    if (klen === 0 && data[at + 2] === OBJECT_END) return { name, fields };
    if (at + 2 + klen + 1 > data.length) return null;
    const key = data.toString('utf8', at + 2, at + 2 + klen);
    at += 2 + klen;
    const type = data[at];
    if (type === NUMBER && at + 9 <= data.length) {
      fields[key] = data.readDoubleBE(at + 1);
      at += 9;
    } else if (type === BOOLEAN && at + 2 <= data.length) {
      fields[key] = data[at + 1] !== 0;
      at += 2;
    } else if (type === STRING && at + 3 <= data.length) {
      const slen = data.readUInt16BE(at + 1);
      if (at + 3 + slen > data.length) return null;
      fields[key] = data.toString('utf8', at + 3, at + 3 + slen);
      at += 3 + slen;
    } else return null;
  }
  return null;
}
