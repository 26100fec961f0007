/**
 * `npm run bench:all [-- --quick] [--out DIR] [--doc FILE]`: every benchmark, one after another on this
 * machine, each as its own `node dist/bench/main.js <scenario> … --json <out>/<step>.json` process;
 * then docs/BENCHMARKS.md is rewritten from the JSON files (bench/results/<date>/). A scenario that is
 * not registered in bench/main.ts (or whose source is missing) is skipped with a note; a step that fails
 * or times out is recorded as such and the run goes on.
 *
 * --quick: small sizes, to check the driver end to end in a few minutes (numbers meaningless).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseFlags } from './lib/report';

interface Step {
  id: string;
  scenario: string;
  args: string[];
  /** Estimated wall-clock seconds on 2 cores (for the 20-minute budget). */
  estimateS: number;
  timeoutS: number;
  /** A source file or directory the scenario needs (relative to the repository root). */
  needs?: string;
}

interface StepResult {
  step: Step;
  command: string;
  status: 'ok' | 'failed' | 'skipped' | 'timeout';
  note?: string;
  seconds: number;
  json?: Record<string, unknown>;
}

const root = join(__dirname, '..', '..'); // dist/bench → repository root
const mainJs = join(__dirname, 'main.js');

function steps(quick: boolean, out: string): Step[] {
  const j = (id: string): string => join(out, `${id}.json`);
  if (quick) {
    return [
      {
        id: 'fanout-k10',
        scenario: 'fanout',
        args: ['--consumers', '10', '--seconds', '3'],
        estimateS: 25,
        timeoutS: 120,
      },
      {
        id: 'chain-h2',
        scenario: 'chain',
        args: ['--hops', '2', '--seconds', '5'],
        estimateS: 25,
        timeoutS: 120,
      },
      {
        id: 'tree-n4',
        scenario: 'tree',
        args: ['--nodes', '4', '--upload-limit-streams', '2'],
        estimateS: 40,
        timeoutS: 180,
      },
      {
        id: 'peers',
        scenario: 'peers',
        args: [
          '--consumers',
          '10',
          '--hops',
          '2',
          '--viewers',
          '4',
          '--seconds',
          '3',
          '--chain-seconds',
          '5',
          '--astral-fanout',
          j('fanout-k10'),
          '--astral-chain',
          j('chain-h2'),
          '--astral-tree',
          j('tree-n4'),
          '--svg',
          join(out, 'per-hop-latency.svg'),
        ],
        estimateS: 45,
        timeoutS: 240,
      },
      { id: 'failover-n4', scenario: 'failover', args: ['--nodes', '4'], estimateS: 45, timeoutS: 180 },
      {
        id: 'directory-sqlite',
        scenario: 'directory',
        args: ['--backend', 'sqlite', '--nodes', '300', '--duration', '3'],
        estimateS: 15,
        timeoutS: 120,
      },
      {
        id: 'directory-postgres',
        scenario: 'directory',
        args: ['--backend', 'postgres', '--nodes', '300', '--duration', '3'],
        estimateS: 15,
        timeoutS: 120,
      },
      {
        id: 'sim-1k',
        scenario: 'sim',
        args: ['--nodes', '1000'],
        estimateS: 20,
        timeoutS: 120,
        needs: 'bench/sim',
      },
      {
        id: 'churn-n6',
        scenario: 'churn',
        args: ['--nodes', '6', '--rate', '3', '--minutes', '0.5', '--svg', join(out, 'continuity.svg')],
        estimateS: 60,
        timeoutS: 240,
        needs: 'bench/churn.ts',
      },
    ].map((s) => ({ ...s, args: [...s.args, '--json', j(s.id)] }));
  }
  // Ordered by priority: if the 20-minute budget runs out, the steps at the end are skipped (with a note).
  return [
    // Fan-out: 2 × (open K + 2 s + 12 s) per K. At K=10 the relay uses ~5 % of a core: a window of 12 s
    // (~60 clock ticks of CPU) keeps the tick rounding and the one-second timers from moving the ratio.
    ...[10, 100, 400].map((k) => ({
      id: `fanout-k${k}`,
      scenario: 'fanout',
      args: ['--consumers', String(k), '--seconds', '12'],
      estimateS: k === 400 ? 50 : 35,
      timeoutS: 240,
    })),
    {
      id: 'chain-h5',
      scenario: 'chain',
      args: ['--hops', '5', '--seconds', '15'],
      estimateS: 45,
      timeoutS: 240,
    },
    {
      id: 'tree-n10',
      scenario: 'tree',
      args: ['--nodes', '10', '--upload-limit-streams', '2'],
      estimateS: 45,
      timeoutS: 300,
    },
    {
      id: 'peers',
      scenario: 'peers',
      // Astral's figures are the runs above (same machine, same run): nginx-rtmp parts only, ~70 s.
      args: [
        '--consumers',
        '100',
        '--hops',
        '5',
        '--viewers',
        '10',
        '--seconds',
        '6',
        '--chain-seconds',
        '15',
        '--astral-fanout',
        j('fanout-k100'),
        '--astral-chain',
        j('chain-h5'),
        '--astral-tree',
        j('tree-n10'),
        '--svg',
        'docs/bench/per-hop-latency.svg',
      ],
      estimateS: 70,
      timeoutS: 300,
    },
    {
      id: 'tree-n30',
      scenario: 'tree',
      args: ['--nodes', '30', '--upload-limit-streams', '2'],
      estimateS: 60,
      timeoutS: 600,
    },
    {
      id: 'directory-sqlite',
      scenario: 'directory',
      args: ['--backend', 'sqlite', '--nodes', '10000', '--duration', '10'],
      estimateS: 45,
      timeoutS: 300,
    },
    {
      id: 'directory-postgres',
      scenario: 'directory',
      args: ['--backend', 'postgres', '--nodes', '10000', '--duration', '10'],
      estimateS: 50,
      timeoutS: 300,
    },
    {
      id: 'sim-10k',
      scenario: 'sim',
      args: ['--nodes', '10000'],
      estimateS: 30,
      timeoutS: 300,
      needs: 'bench/sim',
    },
    {
      id: 'churn-n30',
      scenario: 'churn',
      args: ['--nodes', '30', '--rate', '3', '--minutes', '3', '--svg', 'docs/bench/continuity.svg'],
      estimateS: 230,
      timeoutS: 600,
      needs: 'bench/churn.ts',
    },
    { id: 'failover-n10', scenario: 'failover', args: ['--nodes', '10'], estimateS: 50, timeoutS: 400 },
    {
      id: 'sim-100k',
      scenario: 'sim',
      args: ['--nodes', '100000'],
      estimateS: 90,
      timeoutS: 600,
      needs: 'bench/sim',
    },
    { id: 'failover-n30', scenario: 'failover', args: ['--nodes', '30'], estimateS: 210, timeoutS: 700 },
    {
      id: 'sim-offload-vs-n',
      scenario: 'sim',
      // The plot of offload against N: N = 1000, 10000, 100000, with the earlier agent policy as a baseline.
      args: ['--nodes', '1000,10000,100000', '--baseline', '--svg', 'docs/bench/offload-vs-n.svg'],
      estimateS: 30,
      timeoutS: 600,
      needs: 'bench/sim',
    },
  ].map((s) => ({ ...s, args: [...s.args, '--json', j(s.id)] }));
}

/** The scenarios bench/main.ts registers, from its usage line. */
async function registeredScenarios(): Promise<Set<string>> {
  const text = await new Promise<string>((resolve) => {
    const c = spawn(process.execPath, [mainJs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let s = '';
    c.stderr.on('data', (d: Buffer) => (s += d.toString()));
    c.on('close', () => resolve(s));
  });
  const m = /<([^>]+)>/.exec(text);
  return new Set(m ? m[1].split('|') : []);
}

function runStep(step: Step, out: string): Promise<Omit<StepResult, 'step' | 'command'>> {
  const log = createWriteStream(join(out, `${step.id}.log`));
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mainJs, step.scenario, ...step.args], {
      cwd: root,
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
      log.end();
      const seconds = (performance.now() - t0) / 1000;
      const jsonFile = join(out, `${step.id}.json`);
      const json = existsSync(jsonFile)
        ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, unknown>)
        : undefined;
      if (timedOut) resolve({ status: 'timeout', note: `killed after ${step.timeoutS} s`, seconds, json });
      else if (code !== 0 || !json)
        resolve({ status: 'failed', note: `exit code ${code}; see ${step.id}.log`, seconds, json });
      else resolve({ status: 'ok', seconds, json });
    });
  });
}

// ---------------------------------------------------------------- the document

type J = Record<string, unknown>;
const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as J)[k] : undefined), o);
const num = (o: unknown, path: string): number => {
  const v = get(o, path);
  return typeof v === 'number' ? v : NaN;
};
const fmt = (v: number, digits = 2): string =>
  Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits)) : '—';
const ratio = (a: number, b: number): string =>
  Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '—';

function machine(): string[] {
  const c = cpus();
  let kernel = release();
  try {
    kernel = readFileSync('/proc/version', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    // not Linux
  }
  let nginx = '—';
  try {
    nginx = 'nginx 1.22 + libnginx-mod-rtmp (Debian)';
    const status = readFileSync('/var/lib/dpkg/status', 'utf8');
    const ver = (pkg: string): string =>
      new RegExp(`Package: ${pkg}\\n(?:.+\\n)*?Version: (.+)`).exec(status)?.[1] ?? '?';
    nginx = `nginx ${ver('nginx')}, libnginx-mod-rtmp ${ver('libnginx-mod-rtmp')} (Debian)`;
  } catch {
    // not Debian
  }
  return [
    `- CPU: ${c[0]?.model ?? '?'}, ${c.length} cores (as seen by Node)`,
    `- RAM: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- kernel: ${kernel}`,
    `- Node.js ${process.version}; node-media-server 4.4.3; ${nginx}`,
  ];
}

function summary(results: StepResult[]): string[] {
  const by = new Map(results.map((r) => [r.step.id, r.json]));
  const peers = by.get('peers');
  const rows: string[][] = [];
  const row = (
    figure: string,
    astral: string,
    goal: string,
    nms: string,
    nmsRatio: string,
    nginx: string,
    nginxRatio: string,
  ): void => {
    rows.push([figure, astral, goal, nms, nmsRatio, nginx, nginxRatio]);
  };
  const peersK = num(peers, 'consumers');
  for (const r of results.filter((x) => x.step.scenario === 'fanout')) {
    const k = num(r.json, 'consumers');
    const a = num(r.json, 'mbpsPerCore');
    const nms = num(r.json, 'peer.mbpsPerCore');
    const ng = k === peersK ? num(peers, 'fanout.nginxRtmp.mbpsPerCore') : NaN;
    row(
      `fan-out K=${fmt(k, 0)}: Mbit/s per CPU core (higher is better)`,
      fmt(a),
      '≥ 1000, ahead of NMS',
      fmt(nms),
      ratio(a, nms),
      fmt(ng),
      ratio(a, ng),
    );
    row(`fan-out K=${fmt(k, 0)}: forward drop ratio`, fmt(num(r.json, 'dropRatio'), 4), '0', '', '', '', '');
  }
  for (const r of results.filter((x) => x.step.scenario === 'chain')) {
    const h = num(r.json, 'hops');
    const same = h === num(peers, 'hops');
    for (const p of ['p50', 'p95']) {
      const a = num(r.json, `perHopLatencyMs.${p}`);
      const ng = same ? num(peers, `chain.nginxRtmp.perHopP${p.slice(1)}Ms`) : NaN;
      row(
        `chain H=${fmt(h, 0)}: per-hop latency ${p}, ms (lower is better)`,
        fmt(a),
        p === 'p50' ? '≤ 20' : '≤ 50',
        'no relay chain',
        '—',
        fmt(ng),
        ratio(a, ng),
      );
    }
  }
  for (const r of results.filter((x) => x.step.scenario === 'tree' && x.json)) {
    const n = num(r.json, 'nodes');
    const a = num(r.json, 'sourceEgressKbps');
    const same = n === num(peers, 'nodes');
    const single = same ? num(peers, 'sourceEgress.nginxRtmpSingle.kbps') : NaN;
    const nmsAlone = (n - 1) * num(r.json, 'bitrateKbps');
    const hand = same ? num(peers, 'sourceEgress.nginxRtmpTree.kbps') : NaN;
    row(
      `tree N=${fmt(n, 0)}: source egress, kbit/s (lower is better); Astral builds its tree itself`,
      fmt(a),
      `≤ 2 × ${fmt(num(r.json, 'bitrateKbps'), 0)}`,
      `${fmt(nmsAlone)} (one server, N−1 copies, computed)`,
      ratio(a, nmsAlone),
      same ? `tree by hand: ${fmt(hand)}; one server: ${fmt(single)}` : '—',
      same ? `${ratio(a, hand)} / ${ratio(a, single)}` : '—',
    );
    row(
      `tree N=${fmt(n, 0)}: offload (goal ≥ ${fmt(num(r.json, 'offloadGoal'))})`,
      fmt(num(r.json, 'offload')),
      `≥ ${fmt(num(r.json, 'offloadGoal'))}`,
      '0',
      '',
      'by hand',
      '',
    );
    row(
      `tree N=${fmt(n, 0)}: delivery ratio / max depth / join p50 ms`,
      `${fmt(num(r.json, 'deliveryRatio'), 3)} / ${fmt(num(r.json, 'maxDepth'), 0)} / ${fmt(num(r.json, 'joinMs.p50'))}`,
      '≥ 0.99 / — / ≤ 1000',
      '',
      '',
      '',
      '',
    );
  }
  for (const r of results.filter((x) => x.step.scenario === 'failover' && x.json)) {
    row(
      `failover N=${fmt(num(r.json, 'nodes'), 0)}: recovery p50 / p95 ms; player disconnects`,
      `${fmt(num(r.json, 'recoveryMs.p50'))} / ${fmt(num(r.json, 'recoveryMs.p95'))}; ${fmt(num(r.json, 'playerDisconnects'), 0)}`,
      '— / ≤ 2000; 0',
      'no failover',
      '',
      'no failover (edge re-pull by hand)',
      '',
    );
  }
  for (const r of results.filter((x) => x.step.scenario === 'directory' && x.json)) {
    row(
      `directory ${String(get(r.json, 'backend'))}, ${fmt(num(r.json, 'nodes'), 0)} nodes: registrations/s; p99 ms; heartbeats sustained`,
      `${fmt(num(r.json, 'registrationsPerS'))}; ${fmt(num(r.json, 'p99Ms'))}; ${String(get(r.json, 'sustained'))}`,
      get(r.json, 'backend') === 'postgres' ? '≥ 2000; ≤ 50; true' : '— (goal set for PostgreSQL); true',
      '',
      '',
      '',
      '',
    );
  }
  for (const r of results.filter((x) => x.step.scenario === 'churn' && x.json)) {
    row(
      `churn N=${fmt(num(r.json, 'nodes'), 0)}, ${fmt(num(r.json, 'ratePerMinute'), 0)}/min: continuity`,
      fmt(num(r.json, 'continuity'), 4),
      '≥ 0.99',
      '',
      '',
      '',
      '',
    );
    row(
      `churn: recovery p50 / p95 ms; control msgs/node/s`,
      `${fmt(num(r.json, 'recoveryMs.p50'))} / ${fmt(num(r.json, 'recoveryMs.p95'))}; ${fmt(num(r.json, 'controlMsgsPerNodePerS.total'))}`,
      '—',
      '',
      '',
      '',
      '',
    );
  }
  // One row pair per single-N simulation (the offload-against-N step writes several runs and a plot only).
  for (const r of results.filter((x) => x.step.scenario === 'sim' && x.json && !('runs' in x.json))) {
    const n = fmt(num(r.json, 'nodes'), 0);
    row(
      `simulation N=${n}: share of the bound's servable viewers served; tree depth max (bound ⌈log_k N⌉+2)`,
      `${fmt(num(r.json, 'servedOfServable'), 3)} (${fmt(num(r.json, 'served'), 0)} of ${fmt(num(r.json, 'servable'), 0)}); ${fmt(num(r.json, 'depth.max'), 0)} (bound ${fmt(num(r.json, 'depth.bound'), 0)})`,
      '≥ 0.95; ≤ bound',
      '',
      '',
      '',
      '',
    );
    row(
      `simulation N=${n}: offload (fluid bound r_max); control msgs/s at the directory; per supernode mean / max`,
      `${fmt(num(r.json, 'offload'), 4)} (r_max ${fmt(num(r.json, 'rMax'), 2)} streams/node); ${fmt(num(r.json, 'msgsPerS.directory'), 0)}; ${fmt(num(r.json, 'msgsPerS.perSupernodeMean'), 0)} / ${fmt(num(r.json, 'msgsPerS.perSupernodeMax'), 0)}`,
      '—',
      '',
      '',
      '',
      '',
    );
  }
  for (const r of results.filter((x) => x.status !== 'ok')) {
    row(`${r.step.id}: ${r.status}`, r.note ?? 'see its log in the results folder', '—', '', '', '', '');
  }
  return [
    '| figure | Astral | goal | node-media-server alone | Astral ÷ NMS | nginx-rtmp | Astral ÷ nginx |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

/** The results recorded in an earlier run's summary.json, with each step's JSON read back. */
interface Rerun {
  steps: string[];
  at: string;
  seconds: number;
}

/** When the earlier run started, how long it took, and the re-runs recorded since. */
function previousHistory(out: string): { started: string; totalS: number; reruns: Rerun[] } {
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { started: string; totalS: number; reruns?: Rerun[] };
  return { started: s.started, totalS: s.totalS, reruns: s.reruns ?? [] };
}

function previousResults(out: string, plan: Step[]): Map<string, StepResult> {
  const file = join(out, 'summary.json');
  if (!existsSync(file)) throw new Error(`--rerun needs --out DIR of an earlier run (no ${file})`);
  const summary = JSON.parse(readFileSync(file, 'utf8')) as {
    steps: { id: string; command: string; status: StepResult['status']; note?: string; seconds: number }[];
  };
  const found = new Map<string, StepResult>();
  for (const s of summary.steps) {
    const step = plan.find((p) => p.id === s.id);
    if (!step) continue;
    const jsonFile = join(out, `${s.id}.json`);
    const json = s.status === 'ok' && existsSync(jsonFile) ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, unknown>) : undefined;
    found.set(s.id, { step, command: s.command, status: s.status, note: s.note, seconds: s.seconds, json });
  }
  return found;
}

/** The hand-written reading of the figures (bench/analysis.md): where Astral is behind, and why. */
function analysis(): string[] {
  const file = join(root, 'bench', 'analysis.md');
  return existsSync(file) ? [...readFileSync(file, 'utf8').trimEnd().split('\n'), ''] : [];
}

function writeDoc(
  file: string,
  out: string,
  results: StepResult[],
  quick: boolean,
  totalS: number,
  started: Date,
  reruns: Rerun[] = [],
): void {
  const rel = (p: string): string => relative(dirname(file), p) || '.';
  const plots = existsSync(join(root, 'docs', 'bench'))
    ? readdirSync(join(root, 'docs', 'bench')).filter((f) => f.endsWith('.svg'))
    : [];
  const lines = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench:all` (bench/all.ts) from the JSON files in',
    `[${relative(root, out)}](${rel(out)}); do not edit by hand.${quick ? ' **This is a `--quick` run: tiny sizes, the numbers only prove that the driver works.**' : ''}`,
    '',
    `Run started ${started.toISOString()}, took ${(totalS / 60).toFixed(1)} min.` +
      reruns.map((r) => ` Re-run with \`--rerun ${r.steps.join(',')}\` on ${r.at} (${(r.seconds / 60).toFixed(1)} min).`).join(''),
    '',
    '## Machine',
    '',
    ...machine(),
    '',
    '## Summary',
    '',
    'Every figure comes from this one run on this one machine. Ratios are Astral ÷ peer; whether higher is',
    'better is said in the figure. nginx-rtmp is nginx with the RTMP module, configured by hand (bench/peers):',
    'a chain of `push` relays, one server for the fan-out, and for the source egress a binary origin/edge push',
    "tree written by hand (each relay pushes to at most two, like Astral's upload limit of two streams) —",
    "**nginx's tree needs hand configuration; Astral builds its own.** node-media-server alone is the fan-out",
    'peer (it has no relay chain and no tree).',
    '',
    ...summary(results),
    '',
    ...analysis(),
    '## Steps',
    '',
    '| step | status | seconds | command |',
    '|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.step.id} | ${r.status}${r.note ? ` (${r.note})` : ''} | ${fmt(r.seconds, 0)} | \`${r.command}\` |`,
    ),
    '',
    '## Plots',
    '',
    ...(plots.length
      ? plots.map(
          (p) =>
            `- [${p}](${rel(join(root, 'docs', 'bench', p))}) ![${p}](${rel(join(root, 'docs', 'bench', p))})`,
        )
      : ['- none yet']),
    '',
    '## Method notes',
    '',
    '- Input everywhere: fixtures/sample.flv (~1 Mbit/s H.264 + AAC, 12 s) looped in real time: FlvFilePublisher',
    '  (HTTP-FLV publish) into Astral/node-media-server, `ffmpeg -re -stream_loop -1 -i fixtures/sample.flv -c copy -f flv rtmp://…` into nginx.',
    '- Per-hop latency: arrival time of the same video frame at consecutive hops on one clock. Astral: read at each',
    "  relay's forward port (HTTP). nginx: each hop read by `ffmpeg -i rtmp://… -c copy -f flv -` into FlvParser,",
    '  frames matched by payload hash; the reader cost is the same at every hop and cancels in the difference.',
    '- Fan-out Mbit/s per core: bytes delivered to K raw consumers (HTTP byte counters for Astral/NMS, a minimal RTMP',
    '  player for nginx) over the CPU time of the serving process (Astral: the relay process, which also hosts',
    '  node-media-server; nginx: its single worker), both including the ingest.',
    "- Source egress: Astral: bytes the source relay forwarded (its /stats); nginx: the origin's `bytes_out` from its",
    '  `rtmp_stat` page (pushes to its two children).',
    '- Budget: the full run is sized for ≤ 20 min on 2 cores. Cuts made for it: fan-out windows 6 s (default 10),',
    '  chain window 15 s (default 20), directory heartbeat phase 10 s (default 20); the peers step reuses the Astral',
    '  runs above instead of repeating them. Steps run in priority order; a step whose estimate (bench/all.ts) would',
    '  pass the budget is skipped and listed as such under Steps (`--no-budget` runs everything).',
    '',
  ];
  writeFileSync(file, lines.join('\n'));
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
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
  mkdirSync(out, { recursive: true });
  mkdirSync(join(root, 'docs', 'bench'), { recursive: true });
  const budgetS = Number(flags.get('budget-min') ?? 20) * 60;
  const registered = await registeredScenarios();
  const plan = steps(quick, out);
  console.log(
    `bench:all${quick ? ' --quick' : ''}: ${plan.length} steps, estimated ${Math.round(plan.reduce((s, p) => s + p.estimateS, 0) / 60)} min; results in ${out}`,
  );
  // --rerun ID,ID (with --out DIR of an earlier run): runs only those steps; the others keep that run's results.
  const rerun = flags.get('rerun')?.split(',').filter(Boolean);
  const earlier = rerun ? previousResults(out, plan) : new Map<string, StepResult>();
  const history = rerun ? previousHistory(out) : { started: started.toISOString(), totalS: 0, reruns: [] as Rerun[] };
  if (rerun) {
    const unknown = rerun.filter((id) => !plan.some((p) => p.id === id));
    if (unknown.length) throw new Error(`--rerun: no step ${unknown.join(', ')}; steps: ${plan.map((p) => p.id).join(', ')}`);
  }
  const results: StepResult[] = [];
  const t0 = performance.now();
  for (const step of plan) {
    const kept = earlier.get(step.id);
    if (rerun && !rerun.includes(step.id)) {
      if (kept) results.push(kept);
      continue;
    }
    const command = `npm run bench -- ${step.scenario} ${step.args.map((a) => (relative(root, a).startsWith('..') || !a.startsWith('/') ? a : relative(root, a))).join(' ')}`;
    if (!registered.has(step.scenario) || (step.needs && !existsSync(join(root, step.needs)))) {
      const note = `scenario "${step.scenario}" not present (not registered in bench/main.ts or ${step.needs ?? 'its source'} missing)`;
      console.log(`bench:all: skipping ${step.id}: ${note}`);
      results.push({ step, command, status: 'skipped', note, seconds: 0 });
      continue;
    }
    const elapsed = (performance.now() - t0) / 1000;
    if (!flags.has('no-budget') && elapsed + step.estimateS > budgetS) {
      const note = `skipped: ${Math.round(elapsed)} s elapsed + ≈${step.estimateS} s would pass the ${budgetS / 60}-min budget (--no-budget runs it)`;
      console.log(`bench:all: ${step.id}: ${note}`);
      results.push({ step, command, status: 'skipped', note, seconds: 0 });
      continue;
    }
    console.log(`\n===== bench:all: ${step.id} (≈${step.estimateS} s): ${command}`);
    const r = await runStep(step, out);
    console.log(
      `===== bench:all: ${step.id}: ${r.status} in ${r.seconds.toFixed(0)} s${r.note ? ` (${r.note})` : ''}`,
    );
    results.push({ step, command, ...r });
  }
  const totalS = (performance.now() - t0) / 1000;
  // A re-run keeps the first run's duration and adds itself to the list of re-runs.
  const runS = rerun ? history.totalS : totalS;
  const reruns = rerun?.length ? [...history.reruns, { steps: rerun, at: started.toISOString(), seconds: Math.round(totalS) }] : history.reruns;
  writeFileSync(
    join(out, 'summary.json'),
    `${JSON.stringify({ started: history.started, quick, totalS: runS, reruns, steps: results.map((r) => ({ id: r.step.id, command: r.command, status: r.status, note: r.note, seconds: r.seconds })) }, null, 2)}\n`,
  );
  writeDoc(doc, out, results, quick, runS, new Date(history.started), reruns);
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
