import { ExVideoPacketType, FlvTag, FlvTagType, exVideoFourCc, isExVideoTag } from '../flv/flv-tag';

/**
 * A coded frame of an FLV tag as a view into its body (no copy). `dtsMs` is the tag timestamp as given
 * (32-bit ms; the segmenter unwraps it); `ctsMs` the composition time offset (signed, ms).
 */
export interface FlvSampleView {
  kind: 'video' | 'audio';
  dtsMs: number;
  ctsMs: number;
  keyframe: boolean;
  /** Video: the length-prefixed NAL units; audio: one raw AAC frame. */
  data: Buffer;
}

/** Signed 24-bit big-endian integer (the FLV CompositionTime). */
function int24(b: Buffer, at: number): number {
  const v = (b[at] << 16) | (b[at + 1] << 8) | b[at + 2];
  return v & 0x800000 ? v - 0x1000000 : v;
}

/**
 * The coded frame of a tag: legacy AVC NALU packets (AVCPacketType 1), Enhanced RTMP HEVC CodedFrames
 * (3-byte composition time) and CodedFramesX (composition time 0), AAC raw frames (AACPacketType 1).
 * null for sequence headers, end-of-sequence, script tags, other codecs and bodies too short to hold a frame.
 */
export function sampleFromTag(tag: FlvTag): FlvSampleView | null {
  const d = tag.data;
  if (tag.type === FlvTagType.Audio) {
    if (d.length <= 2 || d[0] >> 4 !== 10 || d[1] !== 1) return null;
    return { kind: 'audio', dtsMs: tag.timestamp, ctsMs: 0, keyframe: true, data: d.subarray(2) };
  }
  if (tag.type !== FlvTagType.Video) return null;
  if (isExVideoTag(tag)) {
    if (exVideoFourCc(tag) !== 'hvc1') return null;
    const packetType = d[0] & 0x0f;
    const keyframe = ((d[0] >> 4) & 7) === 1;
    if (packetType === ExVideoPacketType.CodedFrames && d.length > 8) {
      return { kind: 'video', dtsMs: tag.timestamp, ctsMs: int24(d, 5), keyframe, data: d.subarray(8) };
    }
    if (packetType === ExVideoPacketType.CodedFramesX && d.length > 5) {
      return { kind: 'video', dtsMs: tag.timestamp, ctsMs: 0, keyframe, data: d.subarray(5) };
    }
    return null;
  }
  if (d.length <= 5 || (d[0] & 0x0f) !== 7 || d[1] !== 1) return null;
  return {
    kind: 'video',
    dtsMs: tag.timestamp,
    ctsMs: int24(d, 2),
    keyframe: d[0] >> 4 === 1,
    data: d.subarray(5),
  };
}
