/**
 * The shapes of Astral's CMAF (fragmented MP4) muxer (libs/media/src/mp4): what the HLS segmenter
 * (libs/media/src/hls) hands it and gets back. Times are in each track's own timescale.
 */

export type Fmp4Codec = 'avc' | 'hevc' | 'aac';

/** One track of an init segment, read from an FLV sequence header. */
export interface Fmp4Track {
  /** 1 for video, 2 for audio (track_ID in tkhd, tfhd and trex). */
  id: number;
  kind: 'video' | 'audio';
  codec: Fmp4Codec;
  /** Ticks per second: 90000 for video, the sample rate for audio. */
  timescale: number;
  /** The decoder configuration as FLV carries it: AVCDecoderConfigurationRecord, HEVCDecoderConfigurationRecord or AudioSpecificConfig. */
  config: Buffer;
  /** RFC 6381 codec string for the playlist's CODECS attribute: avc1.4d401e, hvc1.1.6.L93.B0, mp4a.40.2. */
  codecString: string;
  /** Video: picture size in pixels (from the SPS). */
  width?: number;
  height?: number;
  /** Audio: samples per second and channels (from the AudioSpecificConfig). */
  sampleRate?: number;
  channels?: number;
}

/** One access unit of a track, ready for an fMP4 fragment. */
export interface Fmp4Sample {
  /** Decode time, track timescale. */
  dts: number;
  /** Presentation minus decode time (composition offset, may be 0; B-frames make it positive). */
  cts: number;
  /** Until the next sample's dts, track timescale. */
  duration: number;
  /** A sync sample (IDR / keyframe); audio samples are all sync samples. */
  keyframe: boolean;
  /** The sample's bytes: for video the length-prefixed NAL units of the FLV body (a view, not a copy). */
  data: Buffer;
}

/** The samples of one track in one fragment. */
export interface Fmp4TrackRun {
  track: Fmp4Track;
  /** The first sample's decode time (tfdt baseMediaDecodeTime), track timescale. */
  baseDecodeTime: number;
  samples: Fmp4Sample[];
}
