import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { childBoxes, findBoxes, probeFile, readTrun, sampleFlvPath } from '@astral/testing';
import { FlvParser } from '../flv/flv-parser';
import { isSequenceHeader } from '../flv/flv-tag';
import { trackFromSequenceHeader } from './flv-codecs';
import { sampleFromTag } from './flv-samples';
import { initSegment, mediaFragment } from './fmp4';
import { Fmp4Sample, Fmp4Track } from './fmp4-types';

/** The sample fixture remuxed one fragment per GOP, the way the HLS segmenter will feed the muxer. */
function remuxSample(): {
  file: Buffer;
  track: Record<'video' | 'audio', Fmp4Track>;
  videoFrames: number;
  gops: number;
} {
  const tags = new FlvParser().push(readFileSync(sampleFlvPath()));
  const tracks = tags.filter(isSequenceHeader).map(trackFromSequenceHeader);
  const video = tracks.find((t) => t?.kind === 'video')!;
  const audio = tracks.find((t) => t?.kind === 'audio')!;
  const samples = { video: [] as Fmp4Sample[], audio: [] as Fmp4Sample[] };
  const keyframeMs: number[] = [];
  for (const tag of tags) {
    const s = sampleFromTag(tag);
    if (!s) continue;
    const scale = (s.kind === 'video' ? video : audio).timescale / 1000;
    if (s.kind === 'video' && s.keyframe) keyframeMs.push(s.dtsMs);
    const dts = Math.round(s.dtsMs * scale);
    samples[s.kind].push({
      dts,
      cts: Math.round(s.ctsMs * scale),
      duration: 0,
      keyframe: s.keyframe,
      data: s.data,
    });
  }
  for (const list of Object.values(samples)) {
    for (let i = 0; i < list.length; i++) {
      list[i].duration = i + 1 < list.length ? list[i + 1].dts - list[i].dts : list[i - 1].duration;
    }
  }
  const parts = [initSegment([video, audio])];
  for (let g = 0; g < keyframeMs.length; g++) {
    const [from, to] = [g === 0 ? -Infinity : keyframeMs[g], keyframeMs[g + 1] ?? Infinity];
    const inGop = (s: Fmp4Sample, t: Fmp4Track): boolean =>
      s.dts >= from * (t.timescale / 1000) && s.dts < to * (t.timescale / 1000);
    const runs = [
      { track: video, samples: samples.video.filter((s) => inGop(s, video)) },
      { track: audio, samples: samples.audio.filter((s) => inGop(s, audio)) },
    ].map((r) => ({ ...r, baseDecodeTime: r.samples[0]?.dts ?? 0 }));
    parts.push(mediaFragment(g + 1, runs));
  }
  return {
    file: Buffer.concat(parts),
    track: { video, audio },
    videoFrames: samples.video.length,
    gops: keyframeMs.length,
  };
}

describe('the fMP4 muxer, checked by ffprobe and ffmpeg on the remuxed sample', () => {
  const dir = mkdtempSync(join(tmpdir(), 'astral-fmp4-'));
  const path = join(dir, 'sample.mp4');
  const remuxed = remuxSample();
  writeFileSync(path, remuxed.file);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the tracks from the sequence headers', () => {
    expect(remuxed.track.video).toMatchObject({ codec: 'avc', width: 640, height: 360, timescale: 90000 });
    expect(remuxed.track.video.codecString).toMatch(/^avc1\.4d40[0-9a-f]{2}$/);
    expect(remuxed.track.audio).toMatchObject({
      codec: 'aac',
      codecString: 'mp4a.40.2',
      sampleRate: 44100,
      channels: 2,
    });
  });

  it('ffprobe finds H.264 640x360 and AAC 44.1 kHz stereo, every video frame, monotonic dts', async () => {
    const { streams, packets } = await probeFile(path);
    expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const v = streams.find((s) => s.codec_type === 'video')!;
    const a = streams.find((s) => s.codec_type === 'audio')!;
    expect([v.width, v.height]).toEqual([640, 360]);
    expect([a.sample_rate, a.channels]).toEqual(['44100', 2]);
    const videoPackets = packets.filter((p) => p.stream_index === v.index);
    expect(videoPackets).toHaveLength(remuxed.videoFrames);
    for (const stream of [v, a]) {
      const dts = packets.filter((p) => p.stream_index === stream.index).map((p) => Number(p.dts));
      expect(dts.every((t, i) => Number.isFinite(t) && (i === 0 || t > dts[i - 1]))).toBe(true);
    }
    // One keyframe per GOP, and it opens each fragment (see the trun check below).
    expect(videoPackets.filter((p) => p.flags.startsWith('K'))).toHaveLength(remuxed.gops);
  });

  it('starts every fragment with a sync video sample', () => {
    const moofs = findBoxes(remuxed.file, 'moof');
    expect(moofs).toHaveLength(remuxed.gops);
    for (const moof of moofs) {
      const trafs = childBoxes(remuxed.file, moof).filter((b) => b.type === 'traf');
      const videoTraf = trafs.find((t) => childBoxes(remuxed.file, t)[0].body.readUInt32BE(4) === 1)!;
      const trun = readTrun(childBoxes(remuxed.file, videoTraf).find((b) => b.type === 'trun')!);
      expect(trun.samples[0].flags).toBe(0x02000000);
      expect(trun.samples.slice(1).every((s) => s.flags === 0x01010000)).toBe(true);
    }
  });

  it('decodes with ffmpeg without a single error', async () => {
    const { stderr } = await promisify(execFile)('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-'], {
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    expect(stderr.trim()).toBe('');
  });
});
