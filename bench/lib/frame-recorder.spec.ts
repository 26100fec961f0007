import { RecordedPacket, compareFrames } from './frame-recorder';

const v = (hash: string, dts: number): RecordedPacket => ({ media: 'video', dts, pts: dts, size: 1, hash });
/** The source: frames a..j every 40 ms, where the bytes of b repeat at g (a test pattern's first P-frames). */
const source = 'abcdefbhij'.split('').map((h, i) => v(h, i * 40));

describe(compareFrames.name, () => {
  it.each([
    ['every frame once, from the start', 'abcdefbhij', { lostFrames: 0, repeatedFrames: 0, offsetJumps: 0 }],
    ['a join after the repeated bytes', 'bhij', { lostFrames: 0, repeatedFrames: 0, sourceFrames: 4 }],
    ['two frames missing', 'abcfbhij', { lostFrames: 2, repeatedFrames: 0 }],
    ['a GOP repeated', 'abcdabcdefbhij', { lostFrames: 0, repeatedFrames: 4 }],
    ['a frame from elsewhere', 'abxc', { foreignFrames: 1, lostFrames: 0 }],
  ])('%s', (_name, got, expected) => {
    const frames = got.split('').map((h, i) => v(h, 1000 + i * 40));
    expect(compareFrames(source, frames)).toMatchObject(expected);
  });

  it('counts a timestamp jump: the same frames at another offset', () => {
    const frames = [v('a', 0), v('b', 40), v('c', 500), v('d', 540)];
    expect(compareFrames(source, frames)).toMatchObject({ offsetJumps: 1, maxTsGapMs: 460 });
  });
});
