/**
 * The steps of `npm run bench:all`, written once: each entry of the list gives its size in a full run and,
 * when it is part of a `--quick` run, its quick size. The list is in priority order: when the time budget
 * runs out, the steps at the end are skipped (with a note). Pure: no process is started here.
 */
import { join, relative } from 'node:path';

export type Mode = 'full' | 'quick';

export interface Step {
  id: string;
  scenario: string;
  args: string[];
  /** Estimated wall-clock seconds on 2 cores (for the 30-minute budget). */
  estimateS: number;
  timeoutS: number;
  /** A source file or directory the scenario needs (relative to the repository root). */
  needs?: string;
}

/** One size of an entry: its step id, the scenario's flags, and the time it is given. */
interface Size {
  id: string;
  args: string[];
  estimateS: number;
  timeoutS: number;
}

interface Entry {
  scenario: string;
  needs?: string;
  full: Size;
  /** Absent: the entry is not part of a quick run. */
  quick?: Size;
}

/** Where a step writes: its JSON (in the run's folder) and its plots. */
interface Paths {
  json(id: string): string;
  plot(name: string): string;
}

function entries(p: Paths): Entry[] {
  // Each K at both bit rates on Astral, node-media-server alone and nginx-rtmp; the top-level figures are K at 1 Mbit/s.
  const fanout = (
    k: number,
    seconds: number,
    estimateS: number,
    timeoutS: number,
    bitrates = '1,6',
  ): Size => ({
    id: `fanout-k${k}`,
    args: ['--consumers', String(k), '--bitrates', bitrates, '--seconds', String(seconds)],
    estimateS,
    timeoutS,
  });
  const chain = (hops: number, seconds: number, estimateS: number, timeoutS: number): Size => ({
    id: `chain-h${hops}`,
    args: ['--hops', String(hops), '--seconds', String(seconds)],
    estimateS,
    timeoutS,
  });
  const players = (steps: string, seconds: number, estimateS: number, timeoutS: number): Size => ({
    id: 'players',
    args: ['--steps', steps, '--seconds', String(seconds)],
    estimateS,
    timeoutS,
  });
  const tree = (nodes: number, estimateS: number, timeoutS: number): Size => ({
    id: `tree-n${nodes}`,
    args: ['--nodes', String(nodes), '--upload-limit-streams', '2'],
    estimateS,
    timeoutS,
  });
  const failover = (nodes: number, estimateS: number, timeoutS: number): Size => ({
    id: `failover-n${nodes}`,
    args: ['--nodes', String(nodes)],
    estimateS,
    timeoutS,
  });
  const directory = (
    backend: 'sqlite' | 'postgres',
    nodes: number,
    durationS: number,
    estimateS: number,
    timeoutS: number,
  ): Size => ({
    id: `directory-${backend}`,
    args: ['--backend', backend, '--nodes', String(nodes), '--duration', String(durationS)],
    estimateS,
    timeoutS,
  });
  // The simulator runs the shipped machines on every node: about 70 µs of CPU per node and simulated second.
  const sim = (nodes: number, estimateS: number, timeoutS: number): Size => ({
    id: `sim-${nodes / 1000}k`,
    args: ['--nodes', String(nodes)],
    estimateS,
    timeoutS,
  });
  const churn = (nodes: number, minutes: number, estimateS: number, timeoutS: number): Size => ({
    id: `churn-n${nodes}`,
    args: [
      '--nodes',
      String(nodes),
      '--rate',
      '3',
      '--minutes',
      String(minutes),
      '--svg',
      p.plot('continuity.svg'),
    ],
    estimateS,
    timeoutS,
  });
  // Astral's figures are the fan-out, chain and tree steps of the same size in this run (same machine, same
  // run): the peers step runs the nginx-rtmp parts only and reads those steps' JSON.
  const peers = (
    s: { consumers: number; hops: number; nodes: number; seconds: number; chainSeconds: number },
    estimateS: number,
    timeoutS: number,
  ): Size => ({
    id: 'peers',
    args: [
      ...['--consumers', String(s.consumers), '--hops', String(s.hops), '--viewers', String(s.nodes)],
      ...['--seconds', String(s.seconds), '--chain-seconds', String(s.chainSeconds)],
      ...['--astral-fanout', p.json(`fanout-k${s.consumers}`)],
      ...['--astral-chain', p.json(`chain-h${s.hops}`)],
      ...['--astral-tree', p.json(`tree-n${s.nodes}`)],
      ...['--svg', p.plot('per-hop-latency.svg')],
    ],
    estimateS,
    timeoutS,
  });
  return [
    // Fan-out: 2 bit rates × 3 servers × (open K + 2 s + 12 s) per K, and the 6 Mbit/s input made once (~1 min).
    // At K=10 the relay uses a few % of a core: a window of 12 s (~60 clock ticks of CPU) keeps the tick
    // rounding and the one-second timers from moving the ratio.
    { scenario: 'fanout', full: fanout(10, 12, 160, 600), quick: fanout(10, 3, 25, 120, '1') },
    { scenario: 'fanout', full: fanout(100, 12, 110, 600) },
    { scenario: 'fanout', full: fanout(1000, 12, 200, 900) },
    // Player ladders on one pinned core, Astral then nginx-rtmp, stopping at each one's first unclean step.
    {
      scenario: 'players',
      full: players('250,500,1000,2000,3000,4000,6000', 10, 240, 900),
      quick: players('50,100', 3, 40, 240),
    },
    // The chain: forward ports and players at every depth, an LL-HLS window, then the nginx-rtmp chain.
    { scenario: 'chain', full: chain(5, 15, 85, 300), quick: chain(2, 5, 45, 180) },
    { scenario: 'tree', full: tree(10, 45, 300), quick: tree(4, 40, 180) },
    {
      scenario: 'peers',
      full: peers({ consumers: 100, hops: 5, nodes: 10, seconds: 6, chainSeconds: 15 }, 70, 300),
      quick: peers({ consumers: 10, hops: 2, nodes: 4, seconds: 3, chainSeconds: 5 }, 45, 240),
    },
    { scenario: 'tree', full: tree(30, 60, 600) },
    {
      scenario: 'directory',
      full: directory('sqlite', 10_000, 10, 45, 300),
      quick: directory('sqlite', 300, 3, 15, 120),
    },
    {
      scenario: 'directory',
      full: directory('postgres', 10_000, 10, 50, 300),
      quick: directory('postgres', 300, 3, 15, 120),
    },
    { scenario: 'sim', needs: 'bench/sim', full: sim(10_000, 150, 900), quick: sim(1000, 15, 300) },
    {
      scenario: 'churn',
      needs: 'bench/churn.ts',
      full: churn(30, 3, 230, 600),
      quick: churn(6, 0.5, 60, 240),
    },
    { scenario: 'failover', full: failover(10, 50, 400), quick: failover(4, 45, 180) },
    // 100,000 nodes (about 10 minutes of CPU) is not in the 30-minute plan: docs/SIMULATION.md has its command.
    { scenario: 'failover', full: failover(30, 210, 700) },
  ];
}

/**
 * The steps of a run whose JSON files go to `out`. Each step ends with `--json <out>/<id>.json`; a full run
 * writes its plots to docs/bench (relative to the repository root, the steps' working directory), a quick
 * run writes them to `out`.
 */
export function planSteps(mode: Mode, out: string): Step[] {
  const paths: Paths = {
    json: (id) => join(out, `${id}.json`),
    plot: (name) => (mode === 'quick' ? join(out, name) : `docs/bench/${name}`),
  };
  return entries(paths).flatMap((e) => {
    const size = e[mode];
    if (!size) return [];
    const step: Step = {
      id: size.id,
      scenario: e.scenario,
      args: [...size.args, '--json', paths.json(size.id)],
      estimateS: size.estimateS,
      timeoutS: size.timeoutS,
    };
    if (e.needs) step.needs = e.needs;
    return [step];
  });
}

/** The ids of `--rerun ID,ID` (none given: undefined); throws on an id that is not a step of the plan. */
export function rerunIds(flag: string | undefined, plan: Step[]): string[] | undefined {
  if (flag === undefined) return undefined;
  const ids = flag.split(',').filter(Boolean);
  const unknown = ids.filter((id) => !plan.some((p) => p.id === id));
  if (unknown.length)
    throw new Error(`--rerun: no step ${unknown.join(', ')}; steps: ${plan.map((p) => p.id).join(', ')}`);
  return ids;
}

/** What decides whether a step runs. */
export interface Gate {
  /** The scenarios bench/main.ts registers. */
  registered: Set<string>;
  /** Whether a path (relative to the repository root) exists. */
  present(path: string): boolean;
  /** Seconds the run has taken so far. */
  elapsedS: number;
  budgetS: number;
  /** `--no-budget`: run every step whatever the time. */
  noBudget: boolean;
}

export type Skip = { reason: 'absent' | 'budget'; note: string };

/** Why a step is skipped (its scenario is absent, or it would pass the budget), or undefined if it runs. */
export function skipReason(step: Step, gate: Gate): Skip | undefined {
  if (!gate.registered.has(step.scenario) || (step.needs && !gate.present(step.needs))) {
    return {
      reason: 'absent',
      note: `scenario "${step.scenario}" not present (not registered in bench/main.ts or ${step.needs ?? 'its source'} missing)`,
    };
  }
  if (!gate.noBudget && gate.elapsedS + step.estimateS > gate.budgetS) {
    return {
      reason: 'budget',
      note: `skipped: ${Math.round(gate.elapsedS)} s elapsed + ≈${step.estimateS} s would pass the ${gate.budgetS / 60}-min budget (--no-budget runs it)`,
    };
  }
  return undefined;
}

/** The step as the command a person would type, with paths inside the repository made relative to it. */
export function stepCommand(step: Step, root: string): string {
  const arg = (a: string): string =>
    a.startsWith('/') && !relative(root, a).startsWith('..') ? relative(root, a) : a;
  return `npm run bench -- ${step.scenario} ${step.args.map(arg).join(' ')}`;
}

/**
 * `--dry-run`: the plan, one line per step with what would happen to it, taking each step's estimate as its
 * duration for the budget.
 */
export function describePlan(plan: Step[], root: string, gate: Omit<Gate, 'elapsedS'>): string[] {
  let elapsedS = 0;
  return plan.map((step) => {
    const skip = skipReason(step, { ...gate, elapsedS });
    if (!skip) elapsedS += step.estimateS;
    const what = !skip
      ? `runs at ≈${fmtMin(elapsedS - step.estimateS)}`
      : skip.reason === 'budget'
        ? skip.note
        : `skipped: ${skip.note}`;
    return `  ${step.id.padEnd(20)} ≈${String(step.estimateS).padStart(3)} s, timeout ${String(step.timeoutS).padStart(3)} s: ${what}\n    ${stepCommand(step, root)}`;
  });
}

const fmtMin = (s: number): string => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;
