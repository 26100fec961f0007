import { Gate, Step, describePlan, planSteps, rerunIds, skipReason, stepCommand } from './plan';

const OUT = '/repo/bench/results/run';
const ROOT = '/repo';

/** The value after `flag` in a step's args. */
const flag = (step: Step, name: string): string | undefined => {
  const i = step.args.indexOf(name);
  return i < 0 ? undefined : step.args[i + 1];
};

const gate = (over: Partial<Gate> = {}): Gate => ({
  registered: new Set(['fanout', 'chain', 'tree', 'peers', 'failover', 'directory', 'sim', 'churn']),
  present: () => true,
  elapsedS: 0,
  budgetS: 1200,
  noBudget: false,
  ...over,
});

describe('planSteps', () => {
  for (const mode of ['full', 'quick'] as const) {
    describe(mode, () => {
      const plan = planSteps(mode, OUT);

      it('gives every step a unique id and ends its flags with --json <out>/<id>.json', () => {
        expect(new Set(plan.map((s) => s.id)).size).toBe(plan.length);
        for (const s of plan) expect(s.args.slice(-2)).toEqual(['--json', `${OUT}/${s.id}.json`]);
      });

      it('points the peers step at the JSON of fan-out, chain and tree steps of its own sizes that run before it', () => {
        const at = plan.findIndex((s) => s.id === 'peers');
        const peers = plan[at];
        const before = plan.slice(0, at);
        const jsonOf = (id: string | undefined): string | undefined =>
          before.find((s) => s.id === id) && `${OUT}/${id}.json`;
        expect(flag(peers, '--astral-fanout')).toBe(jsonOf(`fanout-k${flag(peers, '--consumers')}`));
        expect(flag(peers, '--astral-chain')).toBe(jsonOf(`chain-h${flag(peers, '--hops')}`));
        expect(flag(peers, '--astral-tree')).toBe(jsonOf(`tree-n${flag(peers, '--viewers')}`));
        expect(flag(peers, '--astral-fanout')).toBeDefined();
      });

      it('gives every step a timeout longer than its estimate', () => {
        for (const s of plan) expect(s.timeoutS).toBeGreaterThan(s.estimateS);
      });
    });
  }

  it('sizes the full run for the 30-minute budget and keeps the quick run to a few minutes', () => {
    const minutes = (plan: Step[]): number => plan.reduce((s, p) => s + p.estimateS, 0) / 60;
    expect(minutes(planSteps('full', OUT))).toBeLessThanOrEqual(30);
    expect(minutes(planSteps('quick', OUT))).toBeLessThanOrEqual(6);
  });

  it('writes the plots of a full run to docs/bench and those of a quick run to the results folder', () => {
    const svgs = (mode: 'full' | 'quick'): string[] =>
      planSteps(mode, OUT).flatMap((s) => (flag(s, '--svg') ? [flag(s, '--svg') as string] : []));
    expect(svgs('full').sort()).toEqual(['docs/bench/continuity.svg', 'docs/bench/per-hop-latency.svg']);
    expect(svgs('quick').sort()).toEqual([`${OUT}/continuity.svg`, `${OUT}/per-hop-latency.svg`]);
  });

  it('runs a smaller size of the same scenarios in a quick run, in the full run’s order', () => {
    const full = planSteps('full', OUT);
    const quick = planSteps('quick', OUT);
    expect(new Set(quick.map((s) => s.scenario))).toEqual(new Set(full.map((s) => s.scenario)));
    expect(quick.map((s) => s.id)).toEqual([
      'fanout-k10',
      'players',
      'chain-h2',
      'tree-n4',
      'peers',
      'directory-sqlite',
      'directory-postgres',
      'sim-1k',
      'churn-n6',
      'failover-n4',
    ]);
    expect(flag(quick[0], '--seconds')).toBe('3');
    expect(flag(full[0], '--seconds')).toBe('12');
    expect(quick.find((s) => s.id === 'sim-1k')?.needs).toBe('bench/sim');
  });
});

describe('rerunIds', () => {
  const plan = planSteps('full', OUT);

  it('is undefined without --rerun, and empty for an empty list (the document is only rewritten)', () => {
    expect(rerunIds(undefined, plan)).toBeUndefined();
    expect(rerunIds('', plan)).toEqual([]);
  });

  it('returns the ids of known steps', () => {
    expect(rerunIds('peers,chain-h5,', plan)).toEqual(['peers', 'chain-h5']);
  });

  it('refuses an unknown id and lists the steps there are', () => {
    expect(() => rerunIds('peers,chain-h9', plan)).toThrow(
      /--rerun: no step chain-h9; steps: fanout-k10, .*peers/,
    );
  });
});

describe('skipReason', () => {
  const [fanout] = planSteps('full', OUT);
  const sim = planSteps('full', OUT).find((s) => s.id === 'sim-10k') as Step;

  it('runs a registered scenario within the budget', () => {
    expect(skipReason(fanout, gate())).toBeUndefined();
  });

  it('skips a scenario bench/main.ts does not register, or whose source is missing', () => {
    expect(skipReason(fanout, gate({ registered: new Set(['chain']) }))).toEqual({
      reason: 'absent',
      note: 'scenario "fanout" not present (not registered in bench/main.ts or its source missing)',
    });
    expect(skipReason(sim, gate({ present: (p) => p !== 'bench/sim' }))?.note).toContain('bench/sim missing');
  });

  it('skips a step whose estimate would pass the budget, unless --no-budget', () => {
    const late = gate({ elapsedS: 1200 - fanout.estimateS + 1 });
    expect(skipReason(fanout, late)).toEqual({
      reason: 'budget',
      note: 'skipped: 1041 s elapsed + ≈160 s would pass the 20-min budget (--no-budget runs it)',
    });
    expect(skipReason(fanout, gate({ elapsedS: 1200 - fanout.estimateS }))).toBeUndefined();
    expect(skipReason(fanout, { ...late, noBudget: true })).toBeUndefined();
  });
});

describe('stepCommand', () => {
  it('shows paths inside the repository relative to it and leaves the others', () => {
    const step: Step = {
      id: 'x',
      scenario: 'peers',
      args: ['--json', `${ROOT}/bench/results/r/x.json`, '--svg', 'docs/bench/a.svg', '--log', '/tmp/x.log'],
      estimateS: 1,
      timeoutS: 2,
    };
    expect(stepCommand(step, ROOT)).toBe(
      'npm run bench -- peers --json bench/results/r/x.json --svg docs/bench/a.svg --log /tmp/x.log',
    );
  });
});

describe('describePlan', () => {
  it('lists every step with its command, counting only the steps that run against the budget', () => {
    const plan = planSteps('quick', OUT);
    const lines = describePlan(plan, ROOT, {
      ...gate({ budgetS: 60 }),
      registered: new Set(['fanout', 'tree']),
    });
    expect(lines).toHaveLength(plan.length);
    expect(lines[0]).toMatch(
      /^ {2}fanout-k10 +≈ 25 s, timeout 120 s: runs at ≈0:00\n {4}npm run bench -- fanout /,
    );
    expect(lines[1]).toContain('players');
    expect(lines[1]).toContain('skipped: scenario "players" not present');
    expect(lines[2]).toContain('chain-h2');
    expect(lines[2]).toContain('skipped: scenario "chain" not present');
    // fanout (25 s) ran; tree (40 s) would end at 65 s > 60 s.
    expect(lines[3]).toContain('skipped: 25 s elapsed + ≈40 s would pass the 1-min budget');
  });
});
