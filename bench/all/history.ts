/**
 * A run's <out>/summary.json: when it started, how long it took, each step's status, and the `--rerun`s
 * made since. `--rerun ID,ID --out DIR` reads it back and keeps the steps it does not run.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Step } from './plan';
import { StepResult } from './runner';

/** A `--rerun` of some steps of an earlier run. */
export interface Rerun {
  steps: string[];
  at: string;
  seconds: number;
}

export interface RunHistory {
  started: string;
  /** The first run's duration (a re-run keeps it). */
  totalS: number;
  reruns: Rerun[];
}

interface Summary extends RunHistory {
  quick: boolean;
  steps: { id: string; command: string; status: StepResult['status']; note?: string; seconds: number }[];
}

function readSummary(out: string): Summary {
  const file = join(out, 'summary.json');
  if (!existsSync(file)) throw new Error(`--rerun needs --out DIR of an earlier run (no ${file})`);
  return JSON.parse(readFileSync(file, 'utf8')) as Summary;
}

/** When the earlier run in `out` started, how long it took, and the re-runs recorded since. */
export function previousHistory(out: string): RunHistory {
  const s = readSummary(out);
  return { started: s.started, totalS: s.totalS, reruns: s.reruns ?? [] };
}

/** The results recorded in the earlier run's summary.json, each ok step with its JSON read back. */
export function previousResults(out: string, plan: Step[]): Map<string, StepResult> {
  const found = new Map<string, StepResult>();
  for (const s of readSummary(out).steps) {
    const step = plan.find((p) => p.id === s.id);
    if (!step) continue;
    const jsonFile = join(out, `${s.id}.json`);
    const json =
      s.status === 'ok' && existsSync(jsonFile)
        ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, unknown>)
        : undefined;
    found.set(s.id, { step, command: s.command, status: s.status, note: s.note, seconds: s.seconds, json });
  }
  return found;
}

/**
 * The history after this run: a first run records its own duration; a re-run keeps the first run's and adds
 * itself to the list of re-runs (a `--rerun` of no step, which only rewrites the document, adds nothing).
 */
export function nextHistory(
  before: RunHistory | undefined,
  run: { started: Date; totalS: number; rerun?: string[] },
): RunHistory {
  if (!before) return { started: run.started.toISOString(), totalS: run.totalS, reruns: [] };
  const reruns = run.rerun?.length
    ? [...before.reruns, { steps: run.rerun, at: run.started.toISOString(), seconds: Math.round(run.totalS) }]
    : before.reruns;
  return { started: before.started, totalS: before.totalS, reruns };
}

export function writeSummary(out: string, history: RunHistory, quick: boolean, results: StepResult[]): void {
  const summary: Summary = {
    started: history.started,
    quick,
    totalS: history.totalS,
    reruns: history.reruns,
    steps: results.map((r) => ({
      id: r.step.id,
      command: r.command,
      status: r.status,
      note: r.note,
      seconds: r.seconds,
    })),
  };
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
}
