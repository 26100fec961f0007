/**
 * A tiny ISO BMFF box walker for specs: reads back what the fMP4 muxer (libs/media/src/mp4) wrote, so a
 * spec can check sizes, offsets and fields without a second muxer. Throws on a box that overruns its parent.
 */
export interface Mp4Box {
  type: string;
  /** Offset of the box's first byte in the buffer walked. */
  start: number;
  size: number;
  /** The bytes after the 8-byte header (a view). */
  body: Buffer;
}

/** Bytes to skip in a container's body before its children (full-box headers, sample entry fields). */
const CHILDREN_AT: Record<string, number> = {
  moov: 0,
  trak: 0,
  mdia: 0,
  minf: 0,
  stbl: 0,
  dinf: 0,
  mvex: 0,
  moof: 0,
  traf: 0,
  dref: 8,
  stsd: 8,
  avc1: 78,
  hvc1: 78,
  mp4a: 28,
};

/** The boxes laid end to end in buf[from, to). */
export function readBoxes(buf: Buffer, from = 0, to = buf.length): Mp4Box[] {
  const boxes: Mp4Box[] = [];
  for (let at = from; at < to;) {
    if (at + 8 > to) throw new Error(`box header at ${at} overruns its parent (ends at ${to})`);
    const size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (size < 8 || at + size > to)
      throw new Error(`box ${type} at ${at} has size ${size}, parent ends at ${to}`);
    boxes.push({ type, start: at, size, body: buf.subarray(at + 8, at + size) });
    at += size;
  }
  return boxes;
}

/** The children of a container box (see CHILDREN_AT); [] for a leaf. */
export function childBoxes(buf: Buffer, parent: Mp4Box): Mp4Box[] {
  const skip = CHILDREN_AT[parent.type];
  if (skip === undefined) return [];
  return readBoxes(buf, parent.start + 8 + skip, parent.start + parent.size);
}

/** Every box under `path` ('moov/trak/mdia/mdhd'), searched from the top level of buf. */
export function findBoxes(buf: Buffer, path: string): Mp4Box[] {
  let level = readBoxes(buf);
  const types = path.split('/');
  for (let i = 0; i < types.length; i++) {
    const matching = level.filter((b) => b.type === types[i]);
    if (i === types.length - 1) return matching;
    level = matching.flatMap((b) => childBoxes(buf, b));
  }
  return [];
}

/** A trun (ISO 14496-12 8.8.8) read back: its flags, data offset and the per-sample fields present. */
export interface TrunFields {
  version: number;
  flags: number;
  dataOffset?: number;
  samples: { duration?: number; size?: number; flags?: number; cts?: number }[];
}

export function readTrun(box: Mp4Box): TrunFields {
  const b = box.body;
  const version = b[0];
  const flags = b.readUIntBE(1, 3);
  const count = b.readUInt32BE(4);
  let at = 8;
  const out: TrunFields = { version, flags, samples: [] };
  const next = (signed = false): number => {
    at += 4;
    return signed ? b.readInt32BE(at - 4) : b.readUInt32BE(at - 4);
  };
  if (flags & 0x1) out.dataOffset = next(true);
  if (flags & 0x4) next(); // first_sample_flags
  for (let i = 0; i < count; i++) {
    const s: TrunFields['samples'][number] = {};
    if (flags & 0x100) s.duration = next();
    if (flags & 0x200) s.size = next();
    if (flags & 0x400) s.flags = next();
    if (flags & 0x800) s.cts = next(version === 1);
    out.samples.push(s);
  }
  return out;
}
