import { FlvTag, isAvcSequenceHeader } from '../flv/flv-tag';

/**
 * The picture size of an H.264 stream from its AVC sequence header (the FLV video tag holding the
 * AVCDecoderConfigurationRecord): the first SPS, read per ITU-T H.264 7.3.2.1.1 as far as the frame size
 * and cropping. Hand-written (about 100 lines with a spec) because the npm SPS parsers are abandoned or
 * pull in whole demuxers. Never throws: anything it cannot read yields null.
 */
export interface VideoSize {
  width: number;
  height: number;
}

/** MSB-first bit reader with exp-Golomb codes (H.264 / H.265 parameter sets); throws RangeError past the end. */
export class BitReader {
  private bit = 0;
  constructor(private readonly b: Buffer) {}

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bit >> 3;
      if (byte >= this.b.length) throw new RangeError('SPS ends early');
      v = v * 2 + ((this.b[byte] >> (7 - (this.bit & 7))) & 1);
      this.bit += 1;
    }
    return v;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) throw new RangeError('exp-Golomb code too long');
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}

/** The RBSP of a NAL unit: emulation-prevention bytes (00 00 03) removed, the NAL header byte dropped. */
export function rbsp(nal: Buffer): Buffer {
  const out = Buffer.alloc(nal.length);
  let n = 0;
  let zeros = 0;
  for (let i = 1; i < nal.length; i++) {
    if (zeros >= 2 && nal[i] === 3) {
      zeros = 0;
      continue;
    }
    zeros = nal[i] === 0 ? zeros + 1 : 0;
    out[n++] = nal[i];
  }
  return out.subarray(0, n);
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Width and height from an SPS NAL unit (with its header byte), or null. */
export function parseSps(nal: Buffer): VideoSize | null {
  try {
    if (nal.length < 4 || (nal[0] & 0x1f) !== 7) return null;
    const r = new BitReader(rbsp(nal));
    const profile = r.u(8);
    r.u(16); // constraint flags, level
    r.ue(); // seq_parameter_set_id
    let chroma = 1;
    let separatePlanes = 0;
    if (HIGH_PROFILES.has(profile)) {
      chroma = r.ue();
      if (chroma === 3) separatePlanes = r.u(1);
      r.ue(); // bit_depth_luma_minus8
      r.ue(); // bit_depth_chroma_minus8
      r.u(1); // qpprime_y_zero_transform_bypass_flag
      if (r.u(1))
        for (let i = 0; i < (chroma !== 3 ? 8 : 12); i++) if (r.u(1)) skipScalingList(r, i < 6 ? 16 : 64);
    }
    r.ue(); // log2_max_frame_num_minus4
    const pocType = r.ue();
    if (pocType === 0) r.ue();
    else if (pocType === 1) {
      r.u(1);
      r.se();
      r.se();
      const n = r.ue();
      if (n > 255) return null;
      for (let i = 0; i < n; i++) r.se();
    }
    r.ue(); // max_num_ref_frames
    r.u(1); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = r.ue() + 1;
    const heightUnits = r.ue() + 1;
    const frameMbsOnly = r.u(1);
    if (!frameMbsOnly) r.u(1);
    r.u(1); // direct_8x8_inference_flag
    let [left, right, top, bottom] = [0, 0, 0, 0];
    if (r.u(1)) [left, right, top, bottom] = [r.ue(), r.ue(), r.ue(), r.ue()];
    const arrayType = separatePlanes ? 0 : chroma;
    const cropX = arrayType === 0 || arrayType === 3 ? 1 : 2;
    const cropY = (arrayType === 1 ? 2 : 1) * (2 - frameMbsOnly);
    const width = widthMbs * 16 - cropX * (left + right);
    const height = (2 - frameMbsOnly) * heightUnits * 16 - cropY * (top + bottom);
    return width > 0 && height > 0 && width <= 16384 && height <= 16384 ? { width, height } : null;
  } catch {
    return null;
  }
}

/** The picture size from an AVC sequence header tag (its first SPS), or null. */
export function videoSizeOf(tag: FlvTag): VideoSize | null {
  if (!isAvcSequenceHeader(tag)) return null;
  const d = tag.data;
  // 5 bytes of FLV video header, then the record: version, profile, compat, level, length size, SPS count.
  if (d.length < 5 + 8 || (d[10] & 0x1f) < 1) return null;
  const len = d.readUInt16BE(11);
  if (d.length < 13 + len) return null;
  return parseSps(d.subarray(13, 13 + len));
}
