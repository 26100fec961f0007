import { readFileSync } from 'node:fs';
import { sampleFlvPath } from '@astral/testing';
import { parseFlvFile } from './flv-parser';
import {
  FlvTagType,
  isAudioSequenceHeader,
  isKeyframe,
  isMetadata,
  isSequenceHeader,
  isVideoFrame,
  isVideoSequenceHeader,
} from './flv-tag';

const { tags } = parseFlvFile(readFileSync(sampleFlvPath()));

describe('FLV tag predicates on the bundled sample', () => {
  it('opens with onMetaData, the AVC sequence header and the AAC sequence header', () => {
    const [meta, avc, aac, first] = tags;
    expect(isMetadata(meta)).toBe(true);
    expect(isVideoSequenceHeader(avc)).toBe(true);
    expect(isVideoFrame(avc)).toBe(false);
    expect(isAudioSequenceHeader(aac)).toBe(true);
    expect(isSequenceHeader(avc) && isSequenceHeader(aac)).toBe(true);
    expect(isKeyframe(first) && isVideoFrame(first)).toBe(true);
    expect(tags.filter(isMetadata)).toHaveLength(1);
    expect(tags.filter(isVideoSequenceHeader)).toHaveLength(1);
    expect(tags.filter(isAudioSequenceHeader)).toHaveLength(1);
  });

  it('has an H.264 keyframe every ~1000 ms', () => {
    const keyframes = tags.filter((t) => isKeyframe(t) && isVideoFrame(t));
    expect(keyframes.every((t) => (t.data[0] & 0x0f) === 7)).toBe(true);
    expect(keyframes.length).toBeGreaterThanOrEqual(11);
    for (let i = 1; i < keyframes.length; i++) {
      expect(Math.abs(keyframes[i].timestamp - keyframes[i - 1].timestamp - 1000)).toBeLessThanOrEqual(50);
    }
  });

  it('shows 25 video frames a second', () => {
    const frames = tags.filter(isVideoFrame);
    const spanS = (frames[frames.length - 1].timestamp - frames[0].timestamp) / 1000;
    expect((frames.length - 1) / spanS).toBeCloseTo(25, 0);
    expect(frames.every((t) => t.type === FlvTagType.Video)).toBe(true);
  });

  it('ends with an AVC end-of-sequence: keyframe-typed, but not a frame a decoder shows', () => {
    const last = tags[tags.length - 1];
    expect(last.data[1]).toBe(2);
    expect(isKeyframe(last)).toBe(true);
    expect(isVideoFrame(last)).toBe(false);
    expect(isSequenceHeader(last)).toBe(false);
  });

  it('classifies nothing from other tag types as video', () => {
    const other = tags.filter((t) => t.type !== FlvTagType.Video);
    expect(other.some((t) => isKeyframe(t) || isVideoFrame(t) || isVideoSequenceHeader(t))).toBe(false);
    expect(tags.filter((t) => t.type !== FlvTagType.Audio).some(isAudioSequenceHeader)).toBe(false);
  });
});
