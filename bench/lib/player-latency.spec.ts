import { Fmp4Track, mediaFragment } from '@astral/media';
import {
  fragmentDecodeTimesMs,
  frameLatencies,
  hopLatencies,
  latencyStats,
  perLevel,
  slopePerLevel,
} from './player-latency';

describe('player latency', () => {
  // Frames 0, 40, 80, 120 written at 1000, 1040, 1080, 1120 ms.
  const written = new Map<number, number>([
    [0, 1000],
    [40, 1040],
    [80, 1080],
    [120, 1120],
  ]);

  it('matches each frame written in the window to its first arrival', () => {
    const arrivals = [
      { timestamp: 0, arrivalMs: 1003 },
      { timestamp: 40, arrivalMs: 1045 },
      { timestamp: 40, arrivalMs: 1900 }, // a repeat (a rejoin's GOP): the first arrival counts
      { timestamp: 120, arrivalMs: 1121 },
      { timestamp: 999, arrivalMs: 1200 }, // never written in the window
    ];
    expect(frameLatencies(written, arrivals, 1000, 1100)).toEqual([3, 5]);
    expect(frameLatencies(written, arrivals, 0, 2000)).toEqual([1, 3, 5]);
  });

  it('takes a hop as the difference between two readers, only for frames both had', () => {
    const a = [
      { timestamp: 0, arrivalMs: 1002 },
      { timestamp: 40, arrivalMs: 1042 },
      { timestamp: 80, arrivalMs: 1082 },
    ];
    const b = [
      { timestamp: 0, arrivalMs: 1004 },
      { timestamp: 80, arrivalMs: 1083 },
      { timestamp: 120, arrivalMs: 1130 },
    ];
    expect(hopLatencies(written, a, b, 0, 2000)).toEqual([1, 2]);
  });

  it('reports p50, p95 and the sample count', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(latencyStats(sorted)).toEqual({ p50: 50, p95: 95, samples: 100 });
    expect(latencyStats([]).samples).toBe(0);
  });

  it('fits the added latency per level as a least-squares slope over depth', () => {
    expect(slopePerLevel([0, 1, 2, 3].map((depth) => ({ depth, value: 5 + 2 * depth })))).toBeCloseTo(2);
    // Every depth counts: 1.2, where the two ends alone would say (8 − 4) / 3 = 1.33.
    const noisy = [4, 6, 6, 8].map((value, depth) => ({ depth, value }));
    expect(slopePerLevel(noisy)).toBeCloseTo(1.2);
    expect(slopePerLevel([{ depth: 0, value: 1 }])).toBeNaN();
    expect(
      slopePerLevel([
        { depth: 0, value: 1 },
        { depth: 1, value: NaN },
      ]),
    ).toBeNaN();
  });

  it('leaves depths without samples out of the slope', () => {
    const s = (p50: number, p95: number, samples = 10): { p50: number; p95: number; samples: number } => ({
      p50,
      p95,
      samples,
    });
    const byDepth = [{ rtmp: s(10, 20) }, { rtmp: s(11, 23) }, { rtmp: s(0, 0, 0) }, { rtmp: s(13, 29) }];
    expect(perLevel(byDepth, 'rtmp').p50).toBeCloseTo(1);
    expect(perLevel(byDepth, 'rtmp').p95).toBeCloseTo(3);
    expect(perLevel(byDepth, 'httpFlv' as 'rtmp').p50).toBeNaN();
  });

  it("reads the video frames' decode times (ms) from a media fragment", () => {
    const video: Fmp4Track = {
      id: 1,
      kind: 'video',
      codec: 'avc',
      timescale: 90_000,
      config: Buffer.alloc(0),
      codecString: 'avc1.42c01e',
    };
    const audio: Fmp4Track = { ...video, id: 2, kind: 'audio', codec: 'aac', timescale: 44_100 };
    const sample = (
      dts: number,
      duration: number,
    ): { dts: number; cts: number; duration: number; keyframe: boolean; data: Buffer } => ({
      dts,
      cts: 0,
      duration,
      keyframe: false,
      data: Buffer.from([0, 0, 0, 1, 0x41]),
    });
    const body = mediaFragment(7, [
      {
        track: video,
        baseDecodeTime: 1000 * 90,
        samples: [sample(90_000, 3600), sample(93_600, 3600), sample(97_200, 3600)],
      },
      { track: audio, baseDecodeTime: 44_100, samples: [sample(44_100, 1024)] },
    ]);
    expect(fragmentDecodeTimesMs(body)).toEqual([1000, 1040, 1080]);
    expect(fragmentDecodeTimesMs(body, 2, 44_100)).toEqual([1000]);
  });
});
