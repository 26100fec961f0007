import { TagTimeline, countMatches, frameIntervalMs } from './timeline';

/** Frames every 40 ms on both clocks, from `from` (timestamp) at `at` (arrival). */
function feed(t: TagTimeline, count: number, from: number, at: number): { ts: number; at: number } {
  for (let i = 0; i < count; i++) t.push(at + i * 40, from + i * 40);
  return { ts: from + (count - 1) * 40, at: at + (count - 1) * 40 };
}

describe('frameIntervalMs', () => {
  it('is the median positive step', () => {
    expect(frameIntervalMs([0, 40, 80, 120, 1000, 1040])).toBe(40);
    expect(frameIntervalMs([0, 33, 67, 100])).toBe(33);
    expect(frameIntervalMs([5])).toBeNaN();
  });
});

describe('TagTimeline', () => {
  it('a steady stream has no gap and no leap', () => {
    const t = new TagTimeline(40);
    feed(t, 500, 0, 1000);
    const s = t.summary();
    expect(s).toMatchObject({ frames: 500, sessions: 1, gapsOver1s: 0, maxTimestampLeapMs: 0, maxGapMs: 40 });
  });

  it('counts a wall-clock gap over 1 s, and not one of exactly 1 s', () => {
    const t = new TagTimeline(40);
    let last = feed(t, 10, 0, 0);
    t.push(last.at + 1000, last.ts + 40); // exactly 1 s: not over
    last = { ts: last.ts + 40, at: last.at + 1000 };
    t.push(last.at + 1500, last.ts + 40);
    const s = t.summary();
    expect(s.gapsOver1s).toBe(1);
    expect(s.maxGapMs).toBe(1500);
    expect(s.gaps).toEqual([{ atMs: 360 + 1000 + 1500, gapMs: 1500 }]);
  });

  it("measures issue 11's 320 s forward leap minus one frame, and backward jumps", () => {
    const t = new TagTimeline(40);
    const last = feed(t, 10, 305_000, 0);
    t.push(last.at + 40, last.ts + 320_000);
    t.push(last.at + 80, last.ts + 320_000 - 2000);
    const s = t.summary();
    expect(s.maxForwardLeapMs).toBe(320_000 - 40);
    expect(s.maxBackwardLeapMs).toBe(2000);
    expect(s.maxTimestampLeapMs).toBe(320_000 - 40);
    expect(s.leaps).toEqual([
      { atMs: 400, leapMs: 319_960 },
      { atMs: 440, leapMs: -2000 },
    ]);
  });

  it('a reconnect restarts the timestamps without a leap, but its wall-clock gap counts', () => {
    const t = new TagTimeline(40);
    const last = feed(t, 10, 50_000, 0);
    t.newSession();
    feed(t, 10, 0, last.at + 2000);
    const s = t.summary();
    expect(s.sessions).toBe(2);
    expect(s.maxTimestampLeapMs).toBe(0);
    expect(s.gapsOver1s).toBe(1);
  });
});

describe('countMatches', () => {
  it('counts matching lines per pattern', () => {
    const text = [
      'a local republish interrupted; retrying',
      'upstream lost',
      'x',
      'upstream lost again',
    ].join('\n');
    expect(countMatches(text, { r: /republish interrupted/, u: /upstream lost/, none: /zzz/ })).toEqual({
      r: 1,
      u: 2,
      none: 0,
    });
  });
});
