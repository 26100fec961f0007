/**
 * Runs the steps of bench:all: each as its own `node dist/bench/main.js <scenario> … --json <out>/<step>.json`
 * process with its output copied to <out>/<step>.log, killed at its timeout; then reads the step's JSON.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gate, Step, skipReason, stepCommand } from './plan';

export interface StepResult {
  step: Step;
  command: string;
  status: 'ok' | 'failed' | 'skipped' | 'timeout';
  note?: string;
  seconds: number;
  json?: Record<string, unknown>;
}

export type StepOutcome = Omit<StepResult, 'step' | 'command'>;

/** Where the steps run: the repository root (their working directory), bench/main.js, the results folder. */
export interface RunContext {
  root: string;
  mainJs: string;
  out: string;
}

/** The scenarios bench/main.ts registers, from the usage line it prints when given none. */
export async function registeredScenarios(mainJs: string): Promise<Set<string>> {
  const text = await new Promise<string>((resolve) => {
    const c = spawn(process.execPath, [mainJs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let s = '';
    c.stderr.on('data', (d: Buffer) => (s += d.toString()));
    c.on('close', () => resolve(s));
  });
  return scenariosInUsage(text);
}

/** `usage: npm run bench -- <a|b|c> [--flags]` → {a, b, c}. */
export function scenariosInUsage(text: string): Set<string> {
  const m = /<([^>]+)>/.exec(text);
  return new Set(m ? m[1].split('|') : []);
}

/** How a step ended: killed at its timeout, failed (non-zero exit or no JSON written), or ok. */
export function outcome(
  step: Step,
  end: { timedOut: boolean; code: number | null; seconds: number; json?: Record<string, unknown> },
): StepOutcome {
  const { seconds, json } = end;
  if (end.timedOut) return { status: 'timeout', note: `killed after ${step.timeoutS} s`, seconds, json };
  if (end.code !== 0 || !json)
    return { status: 'failed', note: `exit code ${end.code}; see ${step.id}.log`, seconds, json };
  return { status: 'ok', seconds, json };
}

/** Runs one step to its end or its timeout (SIGINT, then SIGKILL 20 s later). */
export function runStep(step: Step, ctx: RunContext): Promise<StepOutcome> {
  const log = createWriteStream(join(ctx.out, `${step.id}.log`));
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ctx.mainJs, step.scenario, ...step.args], {
      cwd: ctx.root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      log.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      log.write(d);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
    }, step.timeoutS * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      const jsonFile = join(ctx.out, `${step.id}.json`);
      const json = existsSync(jsonFile)
        ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, unknown>)
        : undefined;
      // The step's result is recorded once its log is complete on disk.
      log.end(() => resolve(outcome(step, { timedOut, code, seconds, json })));
    });
  });
}

export interface RunOptions extends RunContext {
  registered: Set<string>;
  budgetS: number;
  noBudget: boolean;
  /** `--rerun`: only these steps run; the others keep the earlier run's result (`earlier`), if it has one. */
  rerun?: string[];
  earlier: Map<string, StepResult>;
}

/** Runs the plan in order, skipping what is absent or over the budget; returns every step's result. */
export async function runPlan(
  plan: Step[],
  o: RunOptions,
): Promise<{ results: StepResult[]; totalS: number }> {
  const results: StepResult[] = [];
  const t0 = performance.now();
  for (const step of plan) {
    if (o.rerun && !o.rerun.includes(step.id)) {
      const kept = o.earlier.get(step.id);
      if (kept) results.push(kept);
      continue;
    }
    const command = stepCommand(step, o.root);
    const gate: Gate = {
      registered: o.registered,
      present: (path) => existsSync(join(o.root, path)),
      elapsedS: (performance.now() - t0) / 1000,
      budgetS: o.budgetS,
      noBudget: o.noBudget,
    };
    const skip = skipReason(step, gate);
    if (skip) {
      console.log(
        skip.reason === 'absent'
          ? `bench:all: skipping ${step.id}: ${skip.note}`
          : `bench:all: ${step.id}: ${skip.note}`,
      );
      results.push({ step, command, status: 'skipped', note: skip.note, seconds: 0 });
      continue;
    }
    console.log(`\n===== bench:all: ${step.id} (≈${step.estimateS} s): ${command}`);
    const r = await runStep(step, o);
    console.log(
      `===== bench:all: ${step.id}: ${r.status} in ${r.seconds.toFixed(0)} s${r.note ? ` (${r.note})` : ''}`,
    );
    results.push({ step, command, ...r });
  }
  return { results, totalS: (performance.now() - t0) / 1000 };
}
