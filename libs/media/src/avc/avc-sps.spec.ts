import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlvParser } from '../flv/flv-parser';
import { FlvTagType, isVideoSequenceHeader } from '../flv/flv-tag';
import { X265_HVCC_320X240 } from '@astral/testing';
import { parseSps, videoSizeOf } from './avc-sps';

const sample = join(__dirname, '..', '..', '..', '..', 'fixtures', 'sample.flv');

describe(videoSizeOf.name, () => {
  it('reads 640x360 from the sample stream (what ffprobe says)', () => {
    const tags = new FlvParser().push(readFileSync(sample));
    const header = tags.find(isVideoSequenceHeader);
    expect(header).toBeDefined();
    expect(videoSizeOf(header!)).toEqual({ width: 640, height: 360 });
  });

  it('reads 1920x1080 (cropped from 1088) from a Baseline SPS', () => {
    // x264 Baseline 1920x1080: 120x68 macroblocks, bottom crop 4 (x2 = 8 lines).
    const sps = Buffer.from('6742c028d900780227e5c044000003000400000300083c60c920', 'hex');
    expect(parseSps(sps)).toEqual({ width: 1920, height: 1080 });
  });

  it('reads 1280x720 from a High-profile SPS (chroma format and scaling fields present)', () => {
    const sps = Buffer.from('6764001facd9405005bb011000000300100000030020f1831960', 'hex');
    expect(parseSps(sps)).toEqual({ width: 1280, height: 720 });
  });

  it('reads 320x240 from an Enhanced RTMP HEVC SequenceStart (the first SPS of its hvcC)', () => {
    const data = Buffer.concat([Buffer.from([0x90]), Buffer.from('hvc1', 'latin1'), X265_HVCC_320X240]);
    const tag = { type: FlvTagType.Video, timestamp: 0, streamId: 0, data };
    expect(videoSizeOf(tag)).toEqual({ width: 320, height: 240 });
    for (let n = 0; n < data.length; n++)
      expect(() => videoSizeOf({ ...tag, data: data.subarray(0, n) })).not.toThrow();
    expect(
      videoSizeOf({
        ...tag,
        data: Buffer.concat([data.subarray(0, 1), Buffer.from('av01'), data.subarray(5)]),
      }),
    ).toBeNull();
  });

  it('yields null for truncated or foreign bytes, never throws', () => {
    const tags = new FlvParser().push(readFileSync(sample));
    const header = tags.find(isVideoSequenceHeader)!;
    for (let n = 0; n < header.data.length; n++) {
      const cut = { ...header, data: header.data.subarray(0, n) };
      expect(() => videoSizeOf(cut)).not.toThrow();
    }
    expect(
      videoSizeOf({ type: FlvTagType.Audio, timestamp: 0, streamId: 0, data: Buffer.alloc(20) }),
    ).toBeNull();
    expect(parseSps(Buffer.from([0x67, 0xff, 0xff, 0xff, 0xff]))).toBeNull();
  });
});
