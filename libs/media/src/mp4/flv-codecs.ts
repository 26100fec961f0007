import { parseSps } from '../avc/avc-sps';
import { FlvTag, FlvTagType, isAudioSequenceHeader, isAvcSequenceHeader } from '../flv/flv-tag';
import { ExVideoPacketType, exVideoFourCc } from '../flv/flv-tag';
import { parseHevcSps, spsOfHvcc } from '../hevc/hevc-sps';
import { Fmp4Track } from './fmp4-types';

/** Track ids and the video timescale every Astral init segment uses (the segmenter relies on them). */
export const VIDEO_TRACK_ID = 1;
export const AUDIO_TRACK_ID = 2;
export const VIDEO_TIMESCALE = 90_000;

/** ISO 14496-3 1.6.3.4 samplingFrequencyIndex. */
const AAC_SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/**
 * The track an FLV sequence header describes: legacy AVC (codec id 7, AVCPacketType 0), HEVC over Enhanced
 * RTMP (IsExHeader, FourCC 'hvc1', SequenceStart) or AAC (sound format 10, AACPacketType 0); null for
 * anything else or a record too short to read. The config is a view into the tag (no copy).
 */
export function trackFromSequenceHeader(tag: FlvTag): Fmp4Track | null {
  if (tag.type === FlvTagType.Audio)
    return isAudioSequenceHeader(tag) ? aacTrack(tag.data.subarray(2)) : null;
  if (isAvcSequenceHeader(tag)) return avcTrack(tag.data.subarray(5));
  if (exVideoFourCc(tag) === 'hvc1' && (tag.data[0] & 0x0f) === ExVideoPacketType.SequenceStart) {
    return hevcTrack(tag.data.subarray(5));
  }
  return null;
}

/** AVCDecoderConfigurationRecord (ISO 14496-15 5.3.3.1): profile, compatibility and level give the codec string. */
function avcTrack(avcc: Buffer): Fmp4Track | null {
  if (avcc.length < 7 || avcc[0] !== 1) return null;
  let size = null;
  if ((avcc[5] & 0x1f) >= 1 && avcc.length >= 8) {
    const len = avcc.readUInt16BE(6);
    if (avcc.length >= 8 + len) size = parseSps(avcc.subarray(8, 8 + len));
  }
  return {
    id: VIDEO_TRACK_ID,
    kind: 'video',
    codec: 'avc',
    timescale: VIDEO_TIMESCALE,
    config: avcc,
    codecString: `avc1.${hex2(avcc[1])}${hex2(avcc[2])}${hex2(avcc[3])}`,
    width: size?.width ?? 0,
    height: size?.height ?? 0,
  };
}

/** HEVCDecoderConfigurationRecord (ISO 14496-15 8.3.3.1); the size comes from its first SPS. */
function hevcTrack(hvcc: Buffer): Fmp4Track | null {
  if (hvcc.length < 23 || hvcc[0] !== 1) return null;
  const sps = spsOfHvcc(hvcc);
  const size = sps ? parseHevcSps(sps) : null;
  return {
    id: VIDEO_TRACK_ID,
    kind: 'video',
    codec: 'hevc',
    timescale: VIDEO_TIMESCALE,
    config: hvcc,
    codecString: hevcCodecString(hvcc),
    width: size?.width ?? 0,
    height: size?.height ?? 0,
  };
}

/**
 * ISO 14496-15 Annex E.3: hvc1.<space letter><profile_idc>.<compatibility flags, bit-reversed, hex>.
 * <L|H><level_idc>.<constraint bytes, hex, trailing zero bytes dropped>, e.g. hvc1.1.6.L93.B0.
 */
export function hevcCodecString(hvcc: Buffer): string {
  const space = ['', 'A', 'B', 'C'][hvcc[1] >> 6];
  const tier = hvcc[1] & 0x20 ? 'H' : 'L';
  const compat = hvcc.readUInt32BE(2);
  let reversed = 0;
  for (let bit = 0; bit < 32; bit++) if (compat & (1 << bit)) reversed |= 1 << (31 - bit);
  const constraints = [...hvcc.subarray(6, 12)];
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  const parts = [`hvc1`, `${space}${hvcc[1] & 0x1f}`, (reversed >>> 0).toString(16).toUpperCase()];
  parts.push(`${tier}${hvcc[12]}`, ...constraints.map((b) => b.toString(16).toUpperCase()));
  return parts.join('.');
}

/** AudioSpecificConfig (ISO 14496-3 1.6.2.1): object type, sampling frequency, channel configuration. */
function aacTrack(asc: Buffer): Fmp4Track | null {
  if (asc.length < 2) return null;
  let bit = 0;
  const u = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bit++) {
      if (bit >> 3 >= asc.length) throw new RangeError('AudioSpecificConfig ends early');
      v = v * 2 + ((asc[bit >> 3] >> (7 - (bit & 7))) & 1);
    }
    return v;
  };
  try {
    let objectType = u(5);
    if (objectType === 31) objectType = 32 + u(6);
    const frequencyIndex = u(4);
    const sampleRate = frequencyIndex === 15 ? u(24) : AAC_SAMPLE_RATES[frequencyIndex];
    const channelConfig = u(4);
    if (!sampleRate || objectType === 0) return null;
    return {
      id: AUDIO_TRACK_ID,
      kind: 'audio',
      codec: 'aac',
      timescale: sampleRate,
      config: asc,
      codecString: `mp4a.40.${objectType}`,
      sampleRate,
      // 0 means the layout is in a program_config_element; 7 is 7.1 (8 channels).
      channels: channelConfig === 7 ? 8 : channelConfig || 2,
    };
  } catch {
    return null;
  }
}
