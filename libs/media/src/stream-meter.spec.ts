import { readFileSync } from 'node:fs';
import { sampleFlvPath } from '@astral/testing';
import { parseFlvFile } from './flv/flv-parser';
import { FlvTag, FlvTagType } from './flv/flv-tag';
import { encodeFlvTag } from './flv/flv-writer';
import { StreamMeter } from './stream-meter';

const file = readFileSync(sampleFlvPath());
const { tags } = parseFlvFile(file);
const durationMs = tags[tags.length - 1].timestamp - tags[0].timestamp;
const fileBitrateBps = (file.length * 8 * 1000) / durationMs;

/** Plays the sample into the meter at its real timestamps on a simulated clock starting at `startAt`. */
function play(sut: StreamMeter, startAt: number, until = Infinity): number {
  let now = startAt;
  for (const tag of tags) {
    if (tag.timestamp > until) break;
    now = startAt + tag.timestamp;
    sut.record(tag, encodeFlvTag(tag).length, now);
  }
  return now;
}

describe(StreamMeter.name, () => {
  it.each([0, 1_700_000_000_437])(
    'measures the sample at its real bitrate, 25 fps and a keyframe a second (clock from %d)',
    (startAt) => {
      const sut = new StreamMeter();
      const now = play(sut, startAt);
      const m = sut.measure(now);
      expect(Math.abs(m.bitrateBps / fileBitrateBps - 1)).toBeLessThan(0.1);
      expect(m.peakBitrateBps).toBeGreaterThanOrEqual(m.bitrateBps);
      expect(m.fps).toBeCloseTo(25, 0);
      expect(m.keyframeIntervalMs).toBeCloseTo(1000, -1);
    },
  );

  it('stays within 10% of the real bitrate at every second once the window is full', () => {
    for (const startAt of [0, 250, 999]) {
      for (let at = 5000; at <= 11_000; at += 1000) {
        const sut = new StreamMeter();
        const now = play(sut, startAt, at);
        const m = sut.measure(now);
        expect(Math.abs(m.bitrateBps / fileBitrateBps - 1)).toBeLessThan(0.1);
        expect(Math.abs(m.fps - 25)).toBeLessThan(1.5);
      }
    }
  });

  it('reports nothing before a second has been observed, and no keyframe interval before two keyframes', () => {
    const sut = new StreamMeter();
    const now = play(sut, 10_500, 900);
    expect(sut.measure(now)).toEqual({ bitrateBps: 0, peakBitrateBps: 0, fps: 0, keyframeIntervalMs: null });
  });

  it('forgets traffic older than the window', () => {
    const sut = new StreamMeter(5000);
    const now = play(sut, 0);
    expect(sut.measure(now + 10_000)).toMatchObject({ bitrateBps: 0, fps: 0 });
  });

  it('counts a constant synthetic stream exactly', () => {
    const sut = new StreamMeter(5000);
    const frame = (ts: number): FlvTag => ({
      type: FlvTagType.Video,
      timestamp: ts,
      streamId: 0,
      data: Buffer.from([0x27, 0x01, 0, 0, 0]),
    });
    // 1250 bytes every 40 ms: 25 fps and 250 kbit/s.
    for (let t = 0; t < 10_000; t += 40) sut.record(frame(t), 1250, t);
    const m = sut.measure(10_000);
    expect(m.fps).toBeCloseTo(25, 5);
    expect(m.bitrateBps).toBe(250_000);
    expect(m.peakBitrateBps).toBe(250_000);
  });
});
