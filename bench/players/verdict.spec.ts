import { StepSample, ladderResult, stepFigures } from './verdict';

const clean: StepSample = {
  players: 3,
  bytes: [750_000, 760_000, 740_000],
  lagMs: [20, 35, 10],
  ended: 0,
  openFailures: 0,
  seconds: 10,
  expectedBytes: 750_000,
  cpuPercent: 40,
  clientCpuPercent: 30,
  rssMb: 90,
};

describe('stepFigures', () => {
  it('passes a step where every player kept up', () => {
    const f = stepFigures(clean);
    expect(f.ok).toBe(true);
    expect(f.egressMbps).toBeCloseTo(1.8);
    expect(f.maxLagMs).toBe(35);
  });

  it('names each way a step can fail', () => {
    expect(stepFigures({ ...clean, bytes: [750_000, 600_000, 750_000] }).reasons).toEqual(['drops']);
    expect(stepFigures({ ...clean, lagMs: [20, 1500, 10] }).reasons).toEqual(['lag']);
    expect(stepFigures({ ...clean, ended: 1, openFailures: 2 }).reasons).toEqual(['disconnects', 'refused']);
    expect(stepFigures({ ...clean, cpuPercent: 99, clientCpuPercent: 97 }).reasons).toEqual([
      'server CPU',
      'client CPU',
    ]);
  });
});

describe('ladderResult', () => {
  const step = (players: number, over: Partial<StepSample> = {}) =>
    stepFigures({ ...clean, players, ...over });

  it('is the last clean step before the first failure, and says what failed', () => {
    expect(ladderResult([step(250), step(500), step(1000, { lagMs: [2000] }), step(2000)])).toEqual({
      maxPlayers: 500,
      limitedBy: 'server',
    });
    expect(ladderResult([step(250), step(500, { clientCpuPercent: 99 })])).toEqual({
      maxPlayers: 250,
      limitedBy: 'clients',
    });
    expect(ladderResult([step(250), step(500)])).toEqual({ maxPlayers: 500, limitedBy: 'steps' });
    expect(ladderResult([step(250, { ended: 3 })])).toEqual({ maxPlayers: 0, limitedBy: 'server' });
  });
});
