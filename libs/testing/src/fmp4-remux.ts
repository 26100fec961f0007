import {
  Fmp4Sample,
  Fmp4Track,
  FlvTag,
  initSegment,
  isSequenceHeader,
  mediaFragment,
  sampleFromTag,
  trackFromSequenceHeader,
} from '@astral/media';

export interface RemuxedByGop {
  tracks: Record<'video' | 'audio', Fmp4Track>;
  init: Buffer;
  /** One fragment per GOP (the first also holds any audio before the first keyframe). */
  fragments: Buffer[];
  videoFrames: number;
}

/**
 * FLV tags (AVC or HEVC + AAC) remuxed with the fMP4 muxer, one fragment per GOP, as a minimal reference
 * feed for specs that check the muxer's output with real tools: video dts * 90, audio dts in sample-rate
 * ticks, each duration up to the next sample's dts (the last repeats the one before).
 */
export function remuxFlvByGop(tags: FlvTag[]): RemuxedByGop {
  const found = tags.filter(isSequenceHeader).map(trackFromSequenceHeader);
  const video = found.find((t) => t?.kind === 'video');
  const audio = found.find((t) => t?.kind === 'audio');
  if (!video || !audio) throw new Error('remuxFlvByGop needs a video and an audio sequence header');
  const samples = { video: [] as Fmp4Sample[], audio: [] as Fmp4Sample[] };
  const keyframeMs: number[] = [];
  for (const tag of tags) {
    const s = sampleFromTag(tag);
    if (!s) continue;
    const scale = (s.kind === 'video' ? video : audio).timescale / 1000;
    if (s.kind === 'video' && s.keyframe) keyframeMs.push(s.dtsMs);
    const [dts, cts] = [Math.round(s.dtsMs * scale), Math.round(s.ctsMs * scale)];
    samples[s.kind].push({ dts, cts, duration: 0, keyframe: s.keyframe, data: s.data });
  }
  for (const list of Object.values(samples)) {
    for (let i = 0; i < list.length; i++) {
      list[i].duration = i + 1 < list.length ? list[i + 1].dts - list[i].dts : (list[i - 1]?.duration ?? 1);
    }
  }
  const fragments: Buffer[] = [];
  for (let g = 0; g < keyframeMs.length; g++) {
    const [from, to] = [g === 0 ? -Infinity : keyframeMs[g], keyframeMs[g + 1] ?? Infinity];
    const runs = [video, audio].map((track) => {
      const [lo, hi] = [from * (track.timescale / 1000), to * (track.timescale / 1000)];
      const inGop = samples[track.kind].filter((s) => s.dts >= lo && s.dts < hi);
      return { track, baseDecodeTime: inGop[0]?.dts ?? 0, samples: inGop };
    });
    fragments.push(mediaFragment(g + 1, runs));
  }
  return {
    tracks: { video, audio },
    init: initSegment([video, audio]),
    fragments,
    videoFrames: samples.video.length,
  };
}
