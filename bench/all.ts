/**
 * `npm run bench:all [-- --quick] [--out DIR] [--doc FILE] [--rerun ID,ID] [--dry-run]`: every benchmark, one
 * after another on this machine, each as its own `node dist/bench/main.js <scenario> … --json <out>/<step>.json`
 * process; then docs/BENCHMARKS.md is rewritten from the JSON files (bench/results/<date>/, not kept in git).
 * The steps are bench/all/plan.ts; bench/all/runner.ts runs them, bench/all/report.ts writes the document.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseFlags } from './lib/report';
import { RunHistory, nextHistory, previousHistory, previousResults, writeSummary } from './all/history';
import { describePlan, planSteps, rerunIds } from './all/plan';
import { writeDoc } from './all/report';
import { StepResult, registeredScenarios, runPlan } from './all/runner';
import { fmt } from './all/summary-table';

const root = join(__dirname, '..', '..'); // dist/bench → repository root
const mainJs = join(__dirname, 'main.js');

const USAGE = `usage: npm run bench:all [-- flags]   (or node dist/bench/all.js [flags] after npm run build)

Runs every benchmark step of bench/all/plan.ts, each as its own process, then rewrites docs/BENCHMARKS.md
from the JSON files. A scenario that is not registered in bench/main.ts (or whose source is missing) is
skipped with a note; a step that fails or times out is recorded as such and the run goes on.

  --quick            small sizes, to check the driver end to end in a few minutes (numbers meaningless);
                     writes its document into the results folder unless --doc says otherwise
  --out DIR          the results folder (default bench/results/<date>[-quick]/, not kept in git)
  --doc FILE         the document to write (default docs/BENCHMARKS.md)
  --budget-min M     skip the steps whose estimate would pass M minutes (default 30)
  --no-budget        run every step whatever the time
  --rerun ID,ID      with --out DIR of an earlier run: run only these steps, keep that run's other results
                     (an empty list only rewrites the document)
  --dry-run          print the plan (each step, its estimate, timeout and command) and exit
  --help             this text`;

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.has('help')) {
    console.log(USAGE);
    return;
  }
  const quick = flags.has('quick');
  const started = new Date();
  const out =
    flags.get('out') ??
    join(
      root,
      'bench',
      'results',
      started.toISOString().replace(/[:.]/g, '-').slice(0, 19) + (quick ? '-quick' : ''),
    );
  // A --quick run proves the driver; it does not overwrite docs/BENCHMARKS.md unless --doc says so.
  const doc = flags.get('doc') ?? (quick ? join(out, 'BENCHMARKS.md') : join(root, 'docs', 'BENCHMARKS.md'));
  const budgetS = Number(flags.get('budget-min') ?? 30) * 60;
  const noBudget = flags.has('no-budget');
  const registered = await registeredScenarios(mainJs);
  const plan = planSteps(quick ? 'quick' : 'full', out);
  console.log(
    `bench:all${quick ? ' --quick' : ''}: ${plan.length} steps, estimated ${Math.round(plan.reduce((s, p) => s + p.estimateS, 0) / 60)} min; results in ${out}`,
  );
  if (flags.has('dry-run')) {
    const present = (path: string): boolean => existsSync(join(root, path));
    for (const line of describePlan(plan, root, { registered, present, budgetS, noBudget }))
      console.log(line);
    return;
  }
  const rerun = rerunIds(flags.get('rerun'), plan);
  const earlier = rerun ? previousResults(out, plan) : new Map<string, StepResult>();
  const before: RunHistory | undefined = rerun ? previousHistory(out) : undefined;
  mkdirSync(out, { recursive: true });
  mkdirSync(join(root, 'docs', 'bench'), { recursive: true });
  const { results, totalS } = await runPlan(plan, {
    root,
    mainJs,
    out,
    registered,
    budgetS,
    noBudget,
    rerun,
    earlier,
  });
  const history = nextHistory(before, { started, totalS, rerun });
  writeSummary(out, history, quick, results);
  writeDoc({
    file: doc,
    root,
    out,
    results,
    quick,
    totalS: history.totalS,
    started: new Date(history.started),
    reruns: history.reruns,
  });
  console.log(
    `\nbench:all: done in ${(totalS / 60).toFixed(1)} min; wrote ${relative(root, doc)} and ${relative(root, out)}`,
  );
  for (const r of results)
    console.log(
      `  ${r.step.id.padEnd(20)} ${r.status.padEnd(8)} ${fmt(r.seconds, 0).padStart(5)} s ${r.note ?? ''}`,
    );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench:all failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
