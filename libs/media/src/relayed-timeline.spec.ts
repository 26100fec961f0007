import fc from 'fast-check';
import { FlvTag, FlvTagType } from './flv/flv-tag';
import { RelayedTimeline, compositionTime } from './relayed-timeline';

const video = (timestamp: number, cts = 0, key = false): FlvTag => {
  const data = Buffer.alloc(8);
  data[0] = (key ? 0x10 : 0x20) | 7;
  data[1] = 1;
  data.writeUIntBE(cts < 0 ? cts + 0x1000000 : cts, 2, 3);
  return { type: FlvTagType.Video, timestamp, streamId: 0, data };
};
const audio = (timestamp: number): FlvTag => ({
  type: FlvTagType.Audio,
  timestamp,
  streamId: 0,
  data: Buffer.from([0xaf, 1, 0]),
});

describe(RelayedTimeline.name, () => {
  it('passes timestamps through while the input runs forward', () => {
    const sut = new RelayedTimeline();
    expect([video(1000, 0, true), audio(1010), video(1040), audio(1033)].map((t) => sut.map(t))).toEqual([
      1000, 1010, 1040, 1033,
    ]);
  });

  it('continues after everything already output across a switch to an upstream on another timeline', () => {
    const sut = new RelayedTimeline();
    for (let ts = 5000; ts <= 6000; ts += 40) sut.map(video(ts, 0, ts === 5000));
    sut.map(audio(6010));
    sut.discontinuity();
    // The new upstream's GOP replay starts far back in its own time.
    const first = sut.map(video(100, 0, true));
    expect(first).toBeGreaterThan(6010);
    expect(sut.map(video(140))).toBe(first + 40);
    expect(sut.map(audio(120))).toBeGreaterThan(6010);
  });

  it('keeps presentation times (dts + composition time) moving forward across a switch with B-frames', () => {
    const sut = new RelayedTimeline();
    sut.map(video(0, 80, true));
    sut.map(video(40, 160));
    sut.map(video(80, 0));
    const lastPts = 40 + 160;
    sut.discontinuity();
    const dts = sut.map(video(10_000, 80, true));
    expect(dts + 80).toBeGreaterThan(lastPts);
  });

  it('treats a big jump in the input as a discontinuity of its own', () => {
    const sut = new RelayedTimeline();
    sut.map(video(50_000, 0, true));
    const next = sut.map(video(10, 0, true));
    expect(next).toBeGreaterThan(50_000);
  });

  it('keeps every track strictly increasing for any input and any switches', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: fc.constantFrom('a', 'v', 'switch'),
            ts: fc.integer({ min: 0, max: 2 ** 31 }),
            cts: fc.integer({ min: -200, max: 200 }),
          }),
          { maxLength: 300 },
        ),
        (steps) => {
          const sut = new RelayedTimeline();
          const last = new Map<number, number>();
          for (const s of steps) {
            if (s.type === 'switch') {
              sut.discontinuity();
              continue;
            }
            const tag = s.type === 'a' ? audio(s.ts) : video(s.ts, s.cts);
            const out = sut.map(tag);
            const prev = last.get(tag.type);
            if (prev !== undefined && out <= prev) return false;
            last.set(tag.type, out);
          }
          return true;
        },
      ),
    );
  });

  it('reads signed composition times', () => {
    expect(compositionTime(video(0, -40))).toBe(-40);
    expect(compositionTime(video(0, 120))).toBe(120);
    expect(compositionTime(audio(0))).toBe(0);
  });
});
