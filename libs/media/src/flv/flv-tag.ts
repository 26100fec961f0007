/** FLV tag types (video_file_format_spec_v10, E.4.1). */
export enum FlvTagType {
  Audio = 8,
  Video = 9,
  Script = 18,
}

export interface FlvTag {
  type: FlvTagType;
  /** Milliseconds, 32 bits (timestamp plus timestamp-extended). */
  timestamp: number;
  /** Always 0 in valid files; kept for a byte-exact round trip. */
  streamId: number;
  data: Buffer;
  /**
   * The tag in wire form (11-byte header, body, PreviousTagSize) when the code that made the tag already
   * holds it (a parser's view of the socket bytes, node-media-server's buffer): `wireOf` uses it instead of
   * encoding again. Whoever changes `timestamp` must change or drop `wire` with it (see `retimed`). The
   * parser, decodeFlvTag and withWire attach it as an accessor (wire-tag.ts), so a spread drops it.
   */
  wire?: Buffer;
}

export interface FlvHeader {
  version: number;
  hasAudio: boolean;
  hasVideo: boolean;
  /** The raw header bytes including any extra bytes up to the data offset. */
  raw: Buffer;
}

export const FLV_HEADER_SIZE = 9;
export const FLV_TAG_HEADER_SIZE = 11;
/** Largest tag body a 24-bit DataSize can describe. */
export const FLV_MAX_TAG_SIZE = 0xffffff;

/**
 * Enhanced RTMP (veovera enhanced-rtmp v1/v2): a video tag whose first byte has IsExHeader (0x80) set carries
 * the frame type in bits 4-6, a packet type in the low nibble and a FourCC ('hvc1', 'av01', 'vp09') in bytes
 * 1..4 instead of the legacy codec id and AVCPacketType.
 */
export const ExVideoPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  CodedFramesX: 3,
  Metadata: 4,
  Mpeg2TsSequenceStart: 5,
} as const;

/** Frame type 5: a command frame (no picture), in both the legacy and the enhanced header. */
const COMMAND_FRAME = 5;

/** A video tag with the Enhanced RTMP header (IsExHeader bit and room for the FourCC). */
export function isExVideoTag(tag: FlvTag): boolean {
  return tag.type === FlvTagType.Video && tag.data.length >= 5 && (tag.data[0] & 0x80) !== 0;
}

/** The FourCC of an Enhanced RTMP video tag ('hvc1', 'av01', 'vp09'), or null for a legacy tag. */
export function exVideoFourCc(tag: FlvTag): string | null {
  return isExVideoTag(tag) ? tag.data.toString('latin1', 1, 5) : null;
}

/** Frame type of a video tag: bits 4-7 legacy, bits 4-6 with IsExHeader. */
function frameType(tag: FlvTag): number {
  return (tag.data[0] >> 4) & 7;
}

/** A video tag whose frame type is 1 (keyframe), legacy or Enhanced RTMP. Sequence headers are keyframes too. */
export function isKeyframe(tag: FlvTag): boolean {
  return tag.type === FlvTagType.Video && tag.data.length > 0 && frameType(tag) === 1;
}

/** Legacy AVC sequence header (AVCDecoderConfigurationRecord): codec id 7 and AVCPacketType 0. */
export function isAvcSequenceHeader(tag: FlvTag): boolean {
  return (
    tag.type === FlvTagType.Video && tag.data.length > 1 && (tag.data[0] & 0x8f) === 7 && tag.data[1] === 0
  );
}

/** A video decoder configuration: the legacy AVC sequence header or an Enhanced RTMP SequenceStart (any FourCC). */
export function isVideoSequenceHeader(tag: FlvTag): boolean {
  if (isExVideoTag(tag)) return (tag.data[0] & 0x0f) === ExVideoPacketType.SequenceStart;
  return (
    tag.type === FlvTagType.Video && tag.data.length > 1 && (tag.data[0] & 0x0f) === 7 && tag.data[1] === 0
  );
}

/** AAC sequence header (AudioSpecificConfig): sound format 10 and AACPacketType 0. */
export function isAudioSequenceHeader(tag: FlvTag): boolean {
  return tag.type === FlvTagType.Audio && tag.data.length > 1 && tag.data[0] >> 4 === 10 && tag.data[1] === 0;
}

export function isSequenceHeader(tag: FlvTag): boolean {
  return isVideoSequenceHeader(tag) || isAudioSequenceHeader(tag);
}

/**
 * A video frame that a decoder shows: not a sequence header, not an end-of-sequence marker. Enhanced RTMP:
 * CodedFrames or CodedFramesX, and not a command frame; metadata, SequenceEnd, multitrack and ModEx packets
 * are not counted as frames.
 */
export function isVideoFrame(tag: FlvTag): boolean {
  if (isExVideoTag(tag)) {
    const packetType = tag.data[0] & 0x0f;
    return (
      frameType(tag) !== COMMAND_FRAME &&
      (packetType === ExVideoPacketType.CodedFrames || packetType === ExVideoPacketType.CodedFramesX)
    );
  }
  return (
    tag.type === FlvTagType.Video && tag.data.length > 1 && !((tag.data[0] & 0x0f) === 7 && tag.data[1] !== 1)
  );
}

/** An onMetaData script tag: AMF0 string marker 0x02, length 10, "onMetaData". */
export function isMetadata(tag: FlvTag): boolean {
  return (
    tag.type === FlvTagType.Script &&
    tag.data.length >= 13 &&
    tag.data[0] === 0x02 &&
    tag.data.readUInt16BE(1) === 10 &&
    tag.data.toString('latin1', 3, 13) === 'onMetaData'
  );
}
