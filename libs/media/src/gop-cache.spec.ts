import { readFileSync } from 'node:fs';
import { sampleFlvPath } from '@astral/testing';
import { parseFlvFile } from './flv/flv-parser';
import { FlvTag, FlvTagType, isKeyframe, isMetadata, isSequenceHeader, isVideoFrame } from './flv/flv-tag';
import { GopCache } from './gop-cache';

const tag = (type: FlvTagType, timestamp: number, head: number[], size = 16): FlvTag => {
  const data = Buffer.alloc(Math.max(size, head.length), 0xaa);
  Buffer.from(head).copy(data);
  return { type, timestamp, streamId: 0, data };
};
const metadata = (): FlvTag =>
  tag(FlvTagType.Script, 0, [0x02, 0x00, 0x0a, ...Buffer.from('onMetaData'), 0x08]);
const videoHeader = (): FlvTag => tag(FlvTagType.Video, 0, [0x17, 0x00, 0, 0, 0]);
const audioHeader = (): FlvTag => tag(FlvTagType.Audio, 0, [0xaf, 0x00, 0x12, 0x10], 4);
const keyframe = (ts: number, size = 16): FlvTag => tag(FlvTagType.Video, ts, [0x17, 0x01, 0, 0, 0], size);
const interframe = (ts: number, size = 16): FlvTag => tag(FlvTagType.Video, ts, [0x27, 0x01, 0, 0, 0], size);
const audio = (ts: number): FlvTag => tag(FlvTagType.Audio, ts, [0xaf, 0x01]);
const endOfSequence = (ts: number): FlvTag => tag(FlvTagType.Video, ts, [0x17, 0x02, 0, 0, 0], 5);

describe(GopCache.name, () => {
  it('joins with metadata, video header, audio header, then the GOP from its keyframe', () => {
    const sut = new GopCache();
    const [meta, vh, ah] = [metadata(), videoHeader(), audioHeader()];
    const k = keyframe(0);
    const rest = [audio(10), interframe(40), audio(33)];
    // Headers in a different order than they are replayed.
    expect([ah, meta, k, vh, ...rest].map((t) => sut.add(t))).toEqual([
      'audio-header',
      'metadata',
      'keyframe',
      'video-header',
      'frame',
      'frame',
      'frame',
    ]);
    expect(sut.joinSequence()).toEqual([meta, vh, ah, k, ...rest]);
    expect(sut.headers).toEqual([meta, vh, ah]);
  });

  it('starts a new GOP at each keyframe', () => {
    const sut = new GopCache();
    [videoHeader(), keyframe(0), interframe(40), interframe(80)].forEach((t) => sut.add(t));
    const k = keyframe(1000);
    expect(sut.add(k)).toBe('keyframe');
    const after = interframe(1040);
    sut.add(after);
    expect(sut.joinSequence().slice(1)).toEqual([k, after]);
    expect(sut.gopLength).toBe(2);
    expect(sut.bytes).toBe(k.data.length + after.data.length);
  });

  it('skips frames before the first keyframe', () => {
    const sut = new GopCache();
    sut.add(videoHeader());
    expect(sut.add(interframe(0))).toBe('skipped');
    expect(sut.add(audio(10))).toBe('skipped');
    expect(sut.gopLength).toBe(0);
    expect(sut.joinSequence()).toHaveLength(1);
  });

  it('drops a GOP that outgrows maxTags and waits for the next keyframe', () => {
    const sut = new GopCache({ maxTags: 3, maxBytes: 1 << 20 });
    expect([keyframe(0), interframe(40), interframe(80)].map((t) => sut.add(t))).toEqual([
      'keyframe',
      'frame',
      'frame',
    ]);
    expect(sut.add(interframe(120))).toBe('skipped');
    expect(sut.gopLength).toBe(0);
    expect(sut.bytes).toBe(0);
    expect(sut.add(interframe(160))).toBe('skipped');
    expect(sut.add(keyframe(1000))).toBe('keyframe');
    expect(sut.add(interframe(1040))).toBe('frame');
    expect(sut.joinSequence().map((t) => t.timestamp)).toEqual([1000, 1040]);
  });

  it('drops a GOP that outgrows maxBytes and waits for the next keyframe', () => {
    const sut = new GopCache({ maxTags: 100, maxBytes: 100 });
    expect(sut.add(keyframe(0, 50))).toBe('keyframe');
    expect(sut.add(interframe(40, 50))).toBe('frame');
    expect(sut.bytes).toBe(100);
    expect(sut.add(interframe(80, 1))).toBe('skipped');
    expect(sut.add(interframe(120, 1))).toBe('skipped');
    expect(sut.joinSequence()).toEqual([]);
    expect(sut.add(keyframe(1000, 10))).toBe('keyframe');
    expect(sut.joinSequence().map((t) => t.timestamp)).toEqual([1000]);
  });

  it('does not start a GOP at an end-of-sequence marker', () => {
    const sut = new GopCache();
    sut.add(videoHeader());
    expect(sut.add(endOfSequence(0))).toBe('skipped');
    const k = keyframe(40);
    sut.add(k);
    sut.add(endOfSequence(80));
    expect(sut.joinSequence()[1]).toBe(k);
  });

  it('forgets everything on clear()', () => {
    const sut = new GopCache();
    [metadata(), videoHeader(), audioHeader(), keyframe(0)].forEach((t) => sut.add(t));
    sut.clear();
    expect(sut.joinSequence()).toEqual([]);
    expect(sut.bytes).toBe(0);
  });

  it('fed the sample, offers a join sequence that starts at a keyframe at every point of the stream', () => {
    const { tags } = parseFlvFile(readFileSync(sampleFlvPath()));
    const sut = new GopCache();
    let joinable = 0;
    for (const t of tags) {
      sut.add(t);
      const join = sut.joinSequence();
      const headers = sut.headers.length;
      expect(join.slice(0, headers)).toEqual(sut.headers);
      if (headers > 0) expect(isMetadata(join[0])).toBe(true);
      const gop = join.slice(headers);
      if (gop.length === 0) continue;
      joinable += 1;
      expect(isKeyframe(gop[0]) && isVideoFrame(gop[0])).toBe(true);
      expect(gop.some((g) => isSequenceHeader(g) || isMetadata(g))).toBe(false);
    }
    expect(joinable).toBe(tags.length - 3);
    expect(sut.headers).toHaveLength(3);
  });
});

describe('GopCache and the wall-clock stamp', () => {
  it('never keeps an onAstralClock tag (a joiner must not read an old stamp)', () => {
    const { clockTag } = jest.requireActual<typeof import('./amf/clock-tag')>('./amf/clock-tag');
    const sut = new GopCache();
    expect(sut.add(clockTag(0, Date.now()))).toBe('skipped');
    expect(sut.joinSequence()).toHaveLength(0);
  });
});
