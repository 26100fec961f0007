import { readFileSync } from 'node:fs';
import { sampleFlvPath } from '@astral/testing';
import { FlvTag, FlvTagType, isMetadata, isSequenceHeader, isVideoFrame } from '../flv/flv-tag';
import { parseFlvFile } from '../flv/flv-parser';
import { encodeFlvFile, encodeFlvHeader } from '../flv/flv-writer';
import { loopSpanMs, loopTimestamp, medianGap, prepareFlvLoop } from './flv-loop';

const sample = readFileSync(sampleFlvPath());
const tag = (type: FlvTagType, timestamp: number): FlvTag => ({
  type,
  timestamp,
  streamId: 0,
  data: Buffer.from([0x27, 1]),
});

describe('prepareFlvLoop', () => {
  const loop = prepareFlvLoop(sample, 'sample.flv');
  const { tags } = parseFlvFile(sample);

  it('sends the header, then metadata and sequence headers once, then the frames', () => {
    expect(loop.header).toEqual(encodeFlvHeader(true, true));
    expect(loop.preamble.length).toBeGreaterThanOrEqual(3);
    expect(loop.preamble.every((t) => isMetadata(t) || isSequenceHeader(t))).toBe(true);
    expect(loop.preamble.filter(isMetadata)).toHaveLength(1);
    expect(loop.media.some((t) => isMetadata(t) || isSequenceHeader(t) || t.type === FlvTagType.Script)).toBe(
      false,
    );
    expect(loop.preamble.length + loop.media.length).toBe(tags.length);
    expect(loopTimestamp(loop, loop.media[0], 0)).toBe(0);
  });

  it('keeps every track strictly increasing from one pass to the next, the video with a gap of one frame', () => {
    const video = loop.media.filter(isVideoFrame);
    const audio = loop.media.filter((t) => t.type === FlvTagType.Audio);
    const frame = medianGap(video.map((t) => t.timestamp));
    for (const track of [video, audio]) {
      const lastOfPass0 = loopTimestamp(loop, track[track.length - 1], 0);
      const firstOfPass1 = loopTimestamp(loop, track[0], 1);
      expect(firstOfPass1).toBeGreaterThan(lastOfPass0);
    }
    const gap = loopTimestamp(loop, video[0], 1) - loopTimestamp(loop, video[video.length - 1], 0);
    expect(gap).toBeGreaterThanOrEqual(frame);
    expect(gap).toBeLessThanOrEqual(2 * frame);
    // The sample is 12 s long.
    expect(loop.spanMs).toBeGreaterThan(11_500);
    expect(loop.spanMs).toBeLessThan(12_500);
  });

  it('refuses a file with no audio or video frames, naming it', () => {
    const metadataOnly = encodeFlvFile(
      encodeFlvHeader().subarray(0, 9),
      parseFlvFile(sample).tags.filter((t) => isMetadata(t)),
    );
    expect(() => prepareFlvLoop(metadataOnly, 'empty.flv')).toThrow(
      'empty.flv holds no audio or video frames',
    );
  });
});

describe('loopSpanMs', () => {
  it('takes the longest track: its span plus its own median frame interval', () => {
    const video = [0, 40, 80, 120].map((ts) => tag(FlvTagType.Video, ts));
    const audio = [0, 23, 46, 69, 92, 115, 138].map((ts) => tag(FlvTagType.Audio, ts));
    expect(loopSpanMs(video)).toBe(160);
    expect(loopSpanMs([...video, ...audio])).toBe(161);
  });

  it('is at least 1 ms, and a lone frame counts a 40 ms interval', () => {
    expect(loopSpanMs([])).toBe(1);
    expect(loopSpanMs([tag(FlvTagType.Video, 500)])).toBe(40);
  });
});

describe('medianGap', () => {
  it('is the median of the increasing steps, ignoring repeats and steps back', () => {
    expect(medianGap([0, 10, 30, 60])).toBe(20);
    // Steps 40, 40, (none), (back), 40, 100: the repeat and the step back are not gaps.
    expect(medianGap([0, 40, 80, 80, 20, 60, 160])).toBe(40);
    expect(medianGap([5, 5, 5])).toBe(40);
  });
});
