import { PhaseFigures, caseResult, numberList, phaseFigures, rssPer1000 } from './figures';

const sample = {
  consumers: 4,
  bytes: [1_250_000, 1_250_000, 1_250_000, 1_000_000],
  ended: 0,
  seconds: 10,
  cpuSeconds: 0.5,
  rssMb: 80,
  expectedBytes: 1_250_000,
  clientCpuSeconds: 1,
};

describe('phaseFigures', () => {
  it('derives rate, CPU, per-core and per-Gbit figures from the window', () => {
    const f = phaseFigures(sample);
    expect(f.egressMbps).toBeCloseTo(3.8);
    expect(f.cpuPercent).toBeCloseTo(5);
    expect(f.mbpsPerCore).toBeCloseTo(76);
    expect(f.cpuSecondsPerGbit).toBeCloseTo(0.5 / 0.038);
    expect(f.deliveredMin).toBeCloseTo(0.8);
    expect(f.shortConsumers).toBe(1);
    expect(f.clientCpuPercent).toBeCloseTo(10);
    expect(f.dropRatio).toBeUndefined();
  });

  it('counts consumers that never opened as short and as having received nothing', () => {
    const f = phaseFigures({ ...sample, consumers: 6 });
    expect(f.shortConsumers).toBe(3);
    expect(f.deliveredMin).toBe(0);
  });

  it('gives a drop ratio when the server counts its drops', () => {
    expect(phaseFigures({ ...sample, droppedTags: 5, tagsOffered: 1000 }).dropRatio).toBeCloseTo(0.005);
  });
});

const fig = (mbpsPerCore: number, rssMb: number): PhaseFigures => ({
  ...phaseFigures(sample),
  mbpsPerCore,
  rssMb,
});

describe('caseResult and rssPer1000', () => {
  it('puts Astral over each peer in Mbit/s per core', () => {
    const c = caseResult(10, 1, 0.98, {
      astral: fig(300, 0),
      nodeMediaServer: fig(150, 0),
      nginxRtmp: fig(600, 0),
    });
    expect(c.astralOverNodeMediaServer).toBe(2);
    expect(c.astralOverNginx).toBe(0.5);
  });

  it('scales the RSS growth from the smallest to the largest K to 1,000 consumers, per bit rate', () => {
    const at = (k: number, rate: number, rss: number) =>
      caseResult(k, rate, rate, {
        astral: fig(1, rss),
        nodeMediaServer: fig(1, 2 * rss),
        nginxRtmp: fig(1, rss / 2),
      });
    const r = rssPer1000([at(10, 1, 100), at(1000, 1, 199), at(100, 1, 150), at(10, 6, 100)]);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ bitrateMbps: 1, fromK: 10, toK: 1000 });
    expect(r[0].mb.astral).toBeCloseTo(100);
    expect(r[0].mb.nodeMediaServer).toBeCloseTo(200);
    expect(r[0].mb.nginxRtmp).toBeCloseTo(50);
  });
});

describe('numberList', () => {
  it('parses a comma-separated list and refuses junk', () => {
    expect(numberList('10,100, 1000', 'consumers')).toEqual([10, 100, 1000]);
    expect(() => numberList('10,x', 'consumers')).toThrow(/consumers/);
    expect(() => numberList('0', 'bitrates')).toThrow();
  });
});
