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

/** A video tag whose frame type is 1 (keyframe). Sequence headers are keyframes too. */
export function isKeyframe(tag: FlvTag): boolean {
  return tag.type === FlvTagType.Video && tag.data.length > 0 && tag.data[0] >> 4 === 1;
}

/** AVC sequence header (AVCDecoderConfigurationRecord): codec id 7 and AVCPacketType 0. */
export function isVideoSequenceHeader(tag: FlvTag): boolean {
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

/** A video frame that a decoder shows: not a sequence header, not an end-of-sequence marker. */
export function isVideoFrame(tag: FlvTag): boolean {
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
