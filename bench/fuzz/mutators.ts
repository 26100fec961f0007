/**
 * Seeded byte-level mutations for the fuzz bench: bit flips, byte insert/delete, truncation,
 * splicing two inputs, and corruption of known length fields. Pure: the same seed gives the same
 * bytes, so a crash found in a run can be regenerated.
 */

/** mulberry32: a small, fast, seeded PRNG (32-bit state). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[this.int(items.length)];
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** A length field inside an input: `size` bytes big-endian at `offset` (AMF string lengths, RTMP message lengths, FLV data sizes). */
export interface LengthField {
  offset: number;
  size: 1 | 2 | 3 | 4;
}

export function bitFlip(input: Buffer, rng: Rng, flips = 1): Buffer {
  if (input.length === 0) return Buffer.from(input);
  const out = Buffer.from(input);
  for (let i = 0; i < flips; i++) {
    const at = rng.int(out.length);
    out[at] ^= 1 << rng.int(8);
  }
  return out;
}

export function insertBytes(input: Buffer, rng: Rng, maxLen = 64): Buffer {
  const at = rng.int(input.length + 1);
  const len = rng.range(1, maxLen);
  // Half of the time a run of one "interesting" byte, otherwise random bytes.
  const filler = rng.chance(0.5)
    ? Buffer.alloc(len, rng.pick([0x00, 0xff, 0x7f, 0x80, 0x41, 0x0a, 0x0d, 0x25]))
    : rng.bytes(len);
  return Buffer.concat([input.subarray(0, at), filler, input.subarray(at)]);
}

export function deleteBytes(input: Buffer, rng: Rng, maxLen = 64): Buffer {
  if (input.length === 0) return Buffer.alloc(0);
  const at = rng.int(input.length);
  const len = Math.min(input.length - at, rng.range(1, maxLen));
  return Buffer.concat([input.subarray(0, at), input.subarray(at + len)]);
}

/** Keeps a prefix of the input: at least 0 bytes, at most length - 1 (so the result is always shorter). */
export function truncate(input: Buffer, rng: Rng): Buffer {
  if (input.length === 0) return Buffer.alloc(0);
  return Buffer.from(input.subarray(0, rng.int(input.length)));
}

/** The head of `a` up to a random point, then the tail of `b` from a random point. */
export function splice(a: Buffer, b: Buffer, rng: Rng): Buffer {
  return Buffer.concat([a.subarray(0, rng.int(a.length + 1)), b.subarray(rng.int(b.length + 1))]);
}

/** Rewrites one length field with a boundary value (0, 1, max, max - 1, off by one) or a random one. */
export function corruptLength(input: Buffer, field: LengthField, rng: Rng): Buffer {
  if (field.offset < 0 || field.offset + field.size > input.length) return Buffer.from(input);
  const out = Buffer.from(input);
  const max = 2 ** (8 * field.size) - 1;
  const current = out.readUIntBE(field.offset, field.size);
  const candidates = [
    0,
    1,
    max,
    max - 1,
    Math.min(max, current + 1),
    Math.max(0, current - 1),
    rng.int(max + 1),
  ];
  out.writeUIntBE(rng.pick(candidates), field.offset, field.size);
  return out;
}

export interface MutationContext {
  /** Length fields of the seed, for corruptLength (ignored once an earlier op moved the bytes). */
  fields?: readonly LengthField[];
  /** Other inputs to splice with. */
  donors?: readonly Buffer[];
  /** Upper bound on the result's size (default 256 KiB). */
  maxBytes?: number;
}

export type MutationOp = 'bitflip' | 'insert' | 'delete' | 'truncate' | 'splice' | 'length';

/**
 * Applies 1 to `maxOps` random mutations to `seed`. Returns the bytes and the ops applied, in order
 * (for the report and the saved crash inputs).
 */
export function mutate(
  seed: Buffer,
  rng: Rng,
  ctx: MutationContext = {},
  maxOps = 3,
): { bytes: Buffer; ops: MutationOp[] } {
  const maxBytes = ctx.maxBytes ?? 256 * 1024;
  let bytes: Buffer = Buffer.from(seed);
  const ops: MutationOp[] = [];
  let aligned = true; // length-field offsets still point at the seed's fields
  const count = rng.range(1, maxOps);
  for (let i = 0; i < count; i++) {
    const choices: MutationOp[] = ['bitflip', 'insert', 'delete', 'truncate'];
    if (ctx.donors?.length) choices.push('splice');
    if (aligned && ctx.fields?.length) choices.push('length', 'length');
    const op = rng.pick(choices);
    switch (op) {
      case 'bitflip':
        bytes = bitFlip(bytes, rng, rng.range(1, 8));
        break;
      case 'insert':
        bytes = insertBytes(bytes, rng);
        aligned = false;
        break;
      case 'delete':
        bytes = deleteBytes(bytes, rng);
        aligned = false;
        break;
      case 'truncate':
        bytes = truncate(bytes, rng);
        break;
      case 'splice':
        bytes = splice(bytes, rng.pick(ctx.donors!), rng);
        aligned = false;
        break;
      case 'length':
        bytes = corruptLength(bytes, rng.pick(ctx.fields!), rng);
        break;
    }
    ops.push(op);
  }
  if (bytes.length > maxBytes) bytes = bytes.subarray(0, maxBytes);
  return { bytes, ops };
}
