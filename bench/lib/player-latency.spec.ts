import { Fmp4Track, mediaFragment } from '@astral/media';
import {
  fragmentDecodeTimesMs,
  frameLatencies,
  hopLatencies,
  latencyStats,
  perLevel,
  slopePerLevel,
} from './player-latency';

describe('frameLatencies', () => {
  const written = new Map([
    [0, 1000],
    [40, 1040],
    [80, 1080],
    [120, 1120],
  ]);

  it("takes each frame's first arrival minus its write, for frames written in the window", () => {
    const arrivals = [
      { timestamp: 0, arrivalMs: 1003 },
      { timestamp: 40, arrivalMs: 1045 },
      { timestamp: 40, arrivalMs: 1090 }, // a repeat (a rejoin's GOP) is not a second sample
      { timestamp: 80, arrivalMs: 1081 },
      { timestamp: 120, arrivalMs: 1200 },
    ];
    expect(frameLatencies(written, arrivals, 1000, 1100)).toEqual([1, 3, 5]);
  });

  it('leaves out frames that never arrived and arrivals of frames nobody wrote', () => {
    expect(frameLatencies(written, [{ timestamp: 999, arrivalMs: 1001 }], 0, 2000)).toEqual([]);
  });
});

describe('hopLatencies', () => {
  it('is the arrival difference of the same frame at two readers, frames missing at one end left out', () => {
    const written = new Map([
      [0, 0],
      [40, 40],
      [80, 80],
    ]);
    const a = [
      { timestamp: 0, arrivalMs: 5 },
      { timestamp: 40, arrivalMs: 45 },
      { timestamp: 80, arrivalMs: 85 },
    ];
    const b = [
      { timestamp: 0, arrivalMs: 7 },
      { timestamp: 80, arrivalMs: 85.5 },
    ];
    expect(hopLatencies(written, a, b, 0, 100)).toEqual([0.5, 2]);
  });
});

describe('slopePerLevel', () => {
  it('is the least-squares slope over depth', () => {
    expect(slopePerLevel([0, 1, 2, 3].map((depth) => ({ depth, value: 10 + 2 * depth })))).toBeCloseTo(2);
    // Noise around 1 ms per level: the fit uses every depth, not only the ends.
    const noisy = [10, 12, 11, 14].map((value, depth) => ({ depth, value }));
    expect(slopePerLevel(noisy)).toBeCloseTo(1.1);
  });

  it('is NaN with fewer than two measured depths', () => {
    expect(slopePerLevel([{ depth: 0, value: 3 }])).toBeNaN();
    expect(
      slopePerLevel([
        { depth: 0, value: 3 },
        { depth: 1, value: NaN },
      ]),
    ).toBeNaN();
  });

  it('per protocol, skips depths without samples', () => {
    const s = (p50: number, samples = 10): ReturnType<typeof latencyStats> => ({
      p50,
      p95: p50 * 2,
      samples,
    });
    const byDepth = [{ rtmp: s(1) }, { rtmp: s(99, 0) }, { rtmp: s(5) }];
    expect(perLevel(byDepth, 'rtmp')).toEqual({ p50: 2, p95: 4 });
  });
});

describe('fragmentDecodeTimesMs', () => {
  const track = (id: number, kind: 'video' | 'audio', timescale: number): Fmp4Track => ({
    id,
    kind,
    codec: kind === 'video' ? 'avc' : 'aac',
    timescale,
    config: Buffer.alloc(4),
    codecString: '',
  });
  const sample = (
    duration: number,
    keyframe = false,
  ): { dts: number; cts: number; duration: number; keyframe: boolean; data: Buffer } => ({
    dts: 0,
    cts: 0,
    duration,
    keyframe,
    data: Buffer.alloc(7),
  });

  it("reads the video frames' FLV timestamps back from the muxer's fragment (tfdt + trun durations)", () => {
    const body = mediaFragment(3, [
      {
        track: track(1, 'video', 90_000),
        baseDecodeTime: 12_345 * 90,
        samples: [sample(3600, true), sample(3690), sample(3600)],
      },
      { track: track(2, 'audio', 44_100), baseDecodeTime: 999, samples: [sample(1024), sample(1024)] },
    ]);
    expect(fragmentDecodeTimesMs(body)).toEqual([12_345, 12_385, 12_426]);
  });

  it('reads 64-bit decode times (a stream past 13 hours at 90 kHz)', () => {
    const ms = 2 ** 32 / 90 + 1000;
    const body = mediaFragment(1, [
      {
        track: track(1, 'video', 90_000),
        baseDecodeTime: Math.round(ms) * 90,
        samples: [sample(3600, true)],
      },
    ]);
    expect(fragmentDecodeTimesMs(body)).toEqual([Math.round(ms)]);
  });

  it('finds nothing in bytes that are not a fragment', () => {
    expect(fragmentDecodeTimesMs(Buffer.from('not an mp4 at all'))).toEqual([]);
  });
});
