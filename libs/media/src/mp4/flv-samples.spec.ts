import { readFileSync } from 'node:fs';
import { sampleFlvPath } from '@astral/testing';
import { FlvParser } from '../flv/flv-parser';
import { FlvTag, FlvTagType, isVideoFrame } from '../flv/flv-tag';
import { sampleFromTag } from './flv-samples';

const tags = new FlvParser().push(readFileSync(sampleFlvPath()));
const tag = (type: FlvTagType, bytes: number[], timestamp = 40): FlvTag => ({
  type,
  timestamp,
  streamId: 0,
  data: Buffer.from(bytes),
});
const HVC1 = [...Buffer.from('hvc1', 'latin1')];

describe(sampleFromTag.name, () => {
  it('gives one sample per sample frame, each a view into its tag body', () => {
    const samples = tags.map((t) => [t, sampleFromTag(t)] as const).filter(([, s]) => s !== null);
    const videoFrames = tags.filter(isVideoFrame);
    expect(samples.filter(([, s]) => s!.kind === 'video')).toHaveLength(videoFrames.length);
    expect(samples.filter(([, s]) => s!.kind === 'audio').length).toBeGreaterThan(500);
    for (const [t, s] of samples) {
      expect(s!.data.buffer).toBe(t.data.buffer);
      expect(s!.data.byteOffset).toBe(t.data.byteOffset + (s!.kind === 'video' ? 5 : 2));
      expect(s!.dtsMs).toBe(t.timestamp);
    }
    expect(samples.filter(([, s]) => s!.keyframe && s!.kind === 'video').length).toBeGreaterThanOrEqual(11);
    expect(samples.some(([, s]) => s!.ctsMs > 0)).toBe(true); // the sample has B-frames
  });

  it('reads the AVC composition time as signed 24 bits', () => {
    const s = sampleFromTag(tag(FlvTagType.Video, [0x27, 1, 0xff, 0xff, 0xd8, 0, 0, 0, 1, 0x41]));
    expect(s).toMatchObject({ kind: 'video', dtsMs: 40, ctsMs: -40, keyframe: false });
    expect([...s!.data]).toEqual([0, 0, 0, 1, 0x41]);
  });

  it('reads Enhanced RTMP HEVC CodedFrames (with composition time) and CodedFramesX (without)', () => {
    const coded = sampleFromTag(tag(FlvTagType.Video, [0x91, ...HVC1, 0, 0, 80, 0, 0, 0, 2, 0x26, 1]));
    expect(coded).toMatchObject({ kind: 'video', ctsMs: 80, keyframe: true });
    expect([...coded!.data]).toEqual([0, 0, 0, 2, 0x26, 1]);
    const x = sampleFromTag(tag(FlvTagType.Video, [0xa3, ...HVC1, 0, 0, 0, 2, 0x02, 1]));
    expect(x).toMatchObject({ kind: 'video', ctsMs: 0, keyframe: false });
    expect([...x!.data]).toEqual([0, 0, 0, 2, 0x02, 1]);
  });

  it('yields null for headers, end of sequence, other codecs, script tags and empty bodies', () => {
    const none = [
      tag(FlvTagType.Video, [0x17, 0, 0, 0, 0, 1, 0x4d]), // AVC sequence header
      tag(FlvTagType.Video, [0x17, 2, 0, 0, 0]), // AVC end of sequence
      tag(FlvTagType.Video, [0x17, 1, 0, 0, 0]), // AVC NALU packet with no NAL
      tag(FlvTagType.Video, [0x90, ...HVC1, 1]), // HEVC SequenceStart
      tag(FlvTagType.Video, [0x92, ...HVC1]), // HEVC SequenceEnd
      tag(FlvTagType.Video, [0x91, ...HVC1, 0, 0]), // CodedFrames too short for its composition time
      tag(FlvTagType.Video, [0x91, ...[...Buffer.from('av01')], 0, 0, 0, 1]), // AV1
      tag(FlvTagType.Video, [0x22, 1, 2, 3, 4, 5, 6]), // Sorenson H.263
      tag(FlvTagType.Audio, [0xaf, 0, 0x12, 0x10]), // AAC sequence header
      tag(FlvTagType.Audio, [0xaf, 1]), // AAC raw, empty
      tag(FlvTagType.Audio, [0x2f, 1, 2, 3]), // MP3
      tag(FlvTagType.Script, [2, 0, 1, 0x61]),
      tag(FlvTagType.Video, []),
    ];
    expect(none.map(sampleFromTag)).toEqual(none.map(() => null));
  });
});
