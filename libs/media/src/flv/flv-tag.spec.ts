import { readFileSync } from 'node:fs';
import { sampleFlvPath } from '@astral/testing';
import { parseFlvFile } from './flv-parser';
import { GopCache } from '../gop-cache';
import {
  ExVideoPacketType,
  FlvTag,
  FlvTagType,
  exVideoFourCc,
  isAudioSequenceHeader,
  isAvcSequenceHeader,
  isExVideoTag,
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

describe('FLV tag predicates on Enhanced RTMP video (IsExHeader, FourCC hvc1)', () => {
  const ex = (byte0: number, size = 16): FlvTag => {
    const data = Buffer.alloc(size);
    data[0] = byte0;
    data.write('hvc1', 1, 'latin1');
    return { type: FlvTagType.Video, timestamp: 0, streamId: 0, data };
  };

  it('reads SequenceStart as a keyframe-typed header, not a frame', () => {
    const header = ex(0x90);
    expect(isExVideoTag(header) && exVideoFourCc(header) === 'hvc1').toBe(true);
    expect(isVideoSequenceHeader(header) && isSequenceHeader(header) && isKeyframe(header)).toBe(true);
    expect(isVideoFrame(header) || isAvcSequenceHeader(header)).toBe(false);
  });

  it('reads CodedFrames and CodedFramesX as frames, frame type 1 as a keyframe', () => {
    for (const packetType of [ExVideoPacketType.CodedFrames, ExVideoPacketType.CodedFramesX]) {
      expect([isVideoFrame(ex(0x90 | packetType)), isKeyframe(ex(0x90 | packetType))]).toEqual([true, true]);
      expect([isVideoFrame(ex(0xa0 | packetType)), isKeyframe(ex(0xa0 | packetType))]).toEqual([true, false]);
      expect(isVideoSequenceHeader(ex(0x90 | packetType))).toBe(false);
    }
  });

  it('counts neither SequenceEnd, metadata nor command frames as frames', () => {
    expect(isKeyframe(ex(0x92)) && !isVideoFrame(ex(0x92)) && !isSequenceHeader(ex(0x92))).toBe(true);
    expect(isVideoFrame(ex(0x94))).toBe(false);
    expect(isVideoFrame(ex(0xd1))).toBe(false); // frame type 5: a command, no picture
  });

  it('keeps a legacy tag legacy: no FourCC, AVC header still AVC', () => {
    const avc = tags.find(isVideoSequenceHeader)!;
    expect(isExVideoTag(avc) || exVideoFourCc(avc) !== null).toBe(false);
    expect(isAvcSequenceHeader(avc)).toBe(true);
    expect(isExVideoTag(ex(0x91, 4))).toBe(false); // too short for the FourCC
  });

  it('lets the GOP cache start a GOP at an HEVC keyframe and keep the HEVC header', () => {
    const cache = new GopCache();
    const roles = [ex(0x90), ex(0x91), ex(0xa1), ex(0xa3), ex(0x92)].map((t) => cache.add(t));
    expect(roles).toEqual(['video-header', 'keyframe', 'frame', 'frame', 'frame']);
    expect(cache.joinSequence()[0].data[0]).toBe(0x90);
  });
});
