import { BitReader, VideoSize, rbsp } from '../avc/avc-sps';

/**
 * The picture size of an H.265 stream from an SPS NAL unit (ITU-T H.265 7.3.2.2.1), read only as far as
 * pic_width/height_in_luma_samples and the conformance window: the fields before them are fixed-size
 * except the sub-layer part of profile_tier_level, which is skipped by its flags. Never throws.
 */
export function parseHevcSps(nal: Buffer): VideoSize | null {
  try {
    if (nal.length < 4 || ((nal[0] >> 1) & 0x3f) !== 33) return null;
    const r = new BitReader(rbsp(nal));
    r.u(8); // second byte of the 2-byte NAL unit header (rbsp drops only the first)
    r.u(4); // sps_video_parameter_set_id
    const maxSubLayersMinus1 = r.u(3);
    r.u(1); // sps_temporal_id_nesting_flag
    r.u(32);
    r.u(32);
    r.u(32); // general profile (88 bits) and general_level_idc (8 bits)
    const present: [boolean, boolean][] = [];
    for (let i = 0; i < maxSubLayersMinus1; i++) present.push([r.u(1) === 1, r.u(1) === 1]);
    if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) r.u(2);
    for (const [profile, level] of present) {
      if (profile) for (let k = 0; k < 11; k++) r.u(8);
      if (level) r.u(8);
    }
    r.ue(); // sps_seq_parameter_set_id
    const chroma = r.ue();
    if (chroma > 3) return null;
    if (chroma === 3) r.u(1); // separate_colour_plane_flag
    let width = r.ue();
    let height = r.ue();
    if (r.u(1)) {
      const subWidth = chroma === 1 || chroma === 2 ? 2 : 1;
      const subHeight = chroma === 1 ? 2 : 1;
      width -= subWidth * (r.ue() + r.ue());
      height -= subHeight * (r.ue() + r.ue());
    }
    return width > 0 && height > 0 && width <= 16384 && height <= 16384 ? { width, height } : null;
  } catch {
    return null;
  }
}

/** The first SPS of an HEVCDecoderConfigurationRecord (ISO 14496-15 8.3.3.1), or null. */
export function spsOfHvcc(hvcc: Buffer): Buffer | null {
  if (hvcc.length < 23) return null;
  let at = 23;
  for (let a = 0; a < hvcc[22]; a++) {
    if (at + 3 > hvcc.length) return null;
    const type = hvcc[at] & 0x3f;
    const count = hvcc.readUInt16BE(at + 1);
    at += 3;
    for (let n = 0; n < count; n++) {
      if (at + 2 > hvcc.length) return null;
      const len = hvcc.readUInt16BE(at);
      if (at + 2 + len > hvcc.length) return null;
      if (type === 33) return hvcc.subarray(at + 2, at + 2 + len);
      at += 2 + len;
    }
  }
  return null;
}
