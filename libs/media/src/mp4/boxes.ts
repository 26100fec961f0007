/**
 * A tiny ISO BMFF box builder for the init segment, which is written once per stream: plain Buffer
 * concatenation is clear and fast enough there. Media fragments are written in place (fmp4.ts).
 */

export type BoxPart = Buffer | number[];

const part = (p: BoxPart): Buffer => (Buffer.isBuffer(p) ? p : Buffer.from(p));

/** A box: 32-bit size, 4-character type, then the parts in order. */
export function box(type: string, ...parts: BoxPart[]): Buffer {
  const body = parts.map(part);
  const size = 8 + body.reduce((n, b) => n + b.length, 0);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, 4, 'latin1');
  return Buffer.concat([head, ...body], size);
}

/** A full box: a box whose body starts with an 8-bit version and 24-bit flags. */
export function fullBox(type: string, version: number, flags: number, ...parts: BoxPart[]): Buffer {
  return box(type, [version, (flags >> 16) & 0xff, (flags >> 8) & 0xff, flags & 0xff], ...parts);
}

export function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(2 * values.length);
  values.forEach((v, i) => b.writeUInt16BE(v & 0xffff, 2 * i));
  return b;
}

export function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

export const zeros = (n: number): Buffer => Buffer.alloc(n);

export const fourCc = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The unity transformation matrix of mvhd and tkhd (ISO 14496-12 8.2.2). */
export const UNITY_MATRIX = u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);

/** An MPEG-4 descriptor (ISO 14496-1 8.3.3): tag, variable-length size (7 bits a byte), body. */
export function descriptor(tag: number, ...parts: BoxPart[]): Buffer {
  const body = Buffer.concat(parts.map(part));
  const size: number[] = [body.length & 0x7f];
  for (let n = body.length >> 7; n > 0; n >>= 7) size.unshift((n & 0x7f) | 0x80);
  return Buffer.concat([Buffer.from([tag, ...size]), body]);
}
