import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Step } from './plan';
import {
  RunContext,
  StepResult,
  outcome,
  registeredScenarios,
  runPlan,
  runStep,
  scenariosInUsage,
} from './runner';

/** A stand-in for dist/bench/main.js: scenario `ok` writes its --json file, `fail` exits 3, `hang` never ends. */
const FAKE_MAIN = `
const [scenario, ...args] = process.argv.slice(2);
if (!scenario) { console.error('usage: npm run bench -- <ok|fail|hang> [--flags]'); process.exit(2); }
const json = args[args.indexOf('--json') + 1];
console.log('running ' + scenario);
if (scenario === 'ok') require('node:fs').writeFileSync(json, JSON.stringify({ scenario, args }));
if (scenario === 'fail') process.exit(3);
if (scenario === 'hang') setInterval(() => undefined, 1000);
`;

const step = (id: string, scenario: string, out: string, over: Partial<Step> = {}): Step => ({
  id,
  scenario,
  args: ['--flag', 'v', '--json', join(out, `${id}.json`)],
  estimateS: 1,
  timeoutS: 10,
  ...over,
});

describe('runner', () => {
  let ctx: RunContext;
  let log: jest.SpyInstance;
  let write: jest.SpyInstance;

  beforeEach(() => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-all-'));
    writeFileSync(join(dir, 'main.js'), FAKE_MAIN);
    ctx = { root: dir, mainJs: join(dir, 'main.js'), out: dir };
    // The runner echoes each step's output; keep the test's output quiet.
    log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });

  afterEach(() => {
    log.mockRestore();
    write.mockRestore();
    rmSync(ctx.root, { recursive: true, force: true });
  });

  it('reads the registered scenarios from the usage line of bench/main.js', async () => {
    expect(scenariosInUsage('usage: npm run bench -- <a|b|c> [--flags]')).toEqual(new Set(['a', 'b', 'c']));
    expect(scenariosInUsage('no usage here')).toEqual(new Set());
    expect(await registeredScenarios(ctx.mainJs)).toEqual(new Set(['ok', 'fail', 'hang']));
  });

  it('runs a step as a process, logs its output and reads the JSON it wrote', async () => {
    const r = await runStep(step('s1', 'ok', ctx.out), ctx);
    expect(r.status).toBe('ok');
    expect(r.json).toEqual({ scenario: 'ok', args: ['--flag', 'v', '--json', join(ctx.out, 's1.json')] });
    expect(readFileSync(join(ctx.out, 's1.log'), 'utf8')).toBe('running ok\n');
  });

  it('records a non-zero exit as failed', async () => {
    const r = await runStep(step('s2', 'fail', ctx.out), ctx);
    expect(r).toMatchObject({ status: 'failed', note: 'exit code 3; see s2.log' });
    expect(r.json).toBeUndefined();
  });

  it('kills a step at its timeout and records it', async () => {
    const r = await runStep(step('s3', 'hang', ctx.out, { timeoutS: 0.5 }), ctx);
    expect(r).toMatchObject({ status: 'timeout', note: 'killed after 0.5 s' });
    expect(r.seconds).toBeGreaterThanOrEqual(0.5);
    expect(r.seconds).toBeLessThan(5);
  });

  it('classifies an exit without JSON as failed even with code 0', () => {
    const s = step('s4', 'ok', '/out');
    expect(outcome(s, { timedOut: false, code: 0, seconds: 1 })).toEqual({
      status: 'failed',
      note: 'exit code 0; see s4.log',
      seconds: 1,
      json: undefined,
    });
    expect(outcome(s, { timedOut: false, code: 0, seconds: 1, json: {} }).status).toBe('ok');
    expect(outcome(s, { timedOut: true, code: null, seconds: 11, json: {} }).status).toBe('timeout');
  });

  it('runs the plan in order, skipping absent scenarios and steps over the budget', async () => {
    const plan = [
      step('a', 'ok', ctx.out),
      step('b', 'missing', ctx.out),
      step('c', 'ok', ctx.out, { needs: 'no/such/file' }),
      step('d', 'fail', ctx.out),
      step('e', 'ok', ctx.out, { estimateS: 1000 }),
    ];
    const { results, totalS } = await runPlan(plan, {
      ...ctx,
      registered: new Set(['ok', 'fail']),
      budgetS: 600,
      noBudget: false,
      earlier: new Map(),
    });
    expect(results.map((r) => [r.step.id, r.status])).toEqual([
      ['a', 'ok'],
      ['b', 'skipped'],
      ['c', 'skipped'],
      ['d', 'failed'],
      ['e', 'skipped'],
    ]);
    expect(results[2].note).toContain('no/such/file missing');
    expect(results[4].note).toContain('would pass the 10-min budget');
    expect(results[0].command).toBe('npm run bench -- ok --flag v --json a.json');
    expect(totalS).toBeGreaterThan(0);
  });

  it('on --rerun runs only the named steps and keeps the earlier results of the others', async () => {
    const kept: StepResult = {
      step: step('a', 'ok', ctx.out),
      command: 'earlier',
      status: 'ok',
      seconds: 5,
      json: { x: 1 },
    };
    const { results } = await runPlan(
      [step('a', 'ok', ctx.out), step('b', 'ok', ctx.out), step('c', 'ok', ctx.out)],
      {
        ...ctx,
        registered: new Set(['ok']),
        budgetS: 600,
        noBudget: false,
        rerun: ['b'],
        earlier: new Map([['a', kept]]),
      },
    );
    expect(results.map((r) => r.step.id)).toEqual(['a', 'b']);
    expect(results[0]).toBe(kept);
    expect(results[1].status).toBe('ok');
    expect(existsSync(join(ctx.out, 'c.log'))).toBe(false);
  });
});
