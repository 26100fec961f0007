import { TimestampUnwrapper, audioTicks, timestampJump } from './hls-timestamps';
import { parseMediaName } from './hls-media-names';

describe('TimestampUnwrapper', () => {
  it('carries a 32-bit wrap on as +delta, and reads a small step back as negative', () => {
    const u = new TimestampUnwrapper();
    expect(u.advance(2 ** 32 - 100)).toBe(2 ** 32 - 100);
    expect(u.advance(60)).toBe(2 ** 32 + 60);
    expect(u.peek(40)).toBe(2 ** 32 + 40);
    expect(u.advance(20)).toBe(2 ** 32 + 20);
  });
});

describe('timestampJump', () => {
  it('flags a step back or more than 10 s forward; an equal or normal step is none', () => {
    expect(timestampJump(null, 5)).toBeNull();
    expect(timestampJump(1000, 1000)).toBeNull();
    expect(timestampJump(1000, 11_000)).toBeNull();
    expect(timestampJump(1000, 11_001)).toMatch(/forward/);
    expect(timestampJump(1000, 999)).toMatch(/back/);
  });
});

describe('audioTicks', () => {
  it('takes a gap within a millisecond of one AAC frame as 1024 ticks exactly, anything else as is', () => {
    let prev: number | null = null;
    const ticks: number[] = [];
    // 44.1 kHz frames as FLV rounds them: 0, 23, 46, 70, 93, ...
    for (let i = 0; i < 100; i++) {
      prev = audioTicks(Math.round((i * 1024 * 1000) / 44100), 44100, prev);
      ticks.push(prev);
    }
    expect(ticks.every((t, i) => i === 0 || t - ticks[i - 1] === 1024)).toBe(true);
    // A lost frame: the timestamp's own value.
    expect(audioTicks(1000 + 46, 44100, audioTicks(1000, 44100, null))).toBe(Math.round(1.046 * 44100));
  });
});

describe('parseMediaName', () => {
  it('reads the three names and nothing else', () => {
    expect(parseMediaName('init0.mp4')).toEqual({ kind: 'init', index: 0 });
    expect(parseMediaName('s12.m4s')).toEqual({ kind: 'segment', msn: 12 });
    expect(parseMediaName('p12.3.m4s')).toEqual({ kind: 'part', msn: 12, part: 3 });
    for (const bad of [
      'init00.mp4',
      's-1.m4s',
      's1.5.m4s',
      'p1.m4s',
      'p1.2.3.m4s',
      's1.mp4',
      ' s1.m4s',
      's9999999999999999.m4s',
    ]) {
      expect(parseMediaName(bad)).toBeNull();
    }
  });
});
