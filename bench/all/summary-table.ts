/**
 * The summary table of docs/BENCHMARKS.md: one or more rows per step result, Astral's figure beside its goal
 * and the same figure of node-media-server alone and of nginx-rtmp (from the peers step). Pure.
 */
import { StepResult } from './runner';

type J = Record<string, unknown>;
const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as J)[k] : undefined), o);
const num = (o: unknown, path: string): number => {
  const v = get(o, path);
  return typeof v === 'number' ? v : NaN;
};
/** A figure for the table: whole above 100, else `digits` decimals; '—' when missing. */
export const fmt = (v: number, digits = 2): string =>
  Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits)) : '—';
const ratio = (a: number, b: number): string =>
  Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '—';

type Row = (
  figure: string,
  astral: string,
  goal: string,
  nms: string,
  nmsRatio: string,
  nginx: string,
  nginxRatio: string,
) => void;
/** Adds the rows of one step's figures; `peers` is the peers step's JSON (the nginx-rtmp figures). */
type Rows = (r: StepResult, peers: unknown, row: Row) => void;

/** Fan-out: Mbit/s per core beside node-media-server's, and nginx's at the K the peers step measured. */
const fanoutRows: Rows = (r, peers, row) => {
  const peersK = num(peers, 'consumers');
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
};

/** Chain: per-hop latency p50 and p95 beside nginx's at the same number of hops. */
const chainRows: Rows = (r, peers, row) => {
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
};

/** Tree: source egress beside one server's N−1 copies and nginx's hand-made tree; offload; delivery. */
const treeRows: Rows = (r, peers, row) => {
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
};

/** Failover: recovery time and player disconnects. */
const failoverRows: Rows = (r, _peers, row) => {
  row(
    `failover N=${fmt(num(r.json, 'nodes'), 0)}: recovery p50 / p95 ms; player disconnects`,
    `${fmt(num(r.json, 'recoveryMs.p50'))} / ${fmt(num(r.json, 'recoveryMs.p95'))}; ${fmt(num(r.json, 'playerDisconnects'), 0)}`,
    '— / ≤ 2000; 0',
    'no failover',
    '',
    'no failover (edge re-pull by hand)',
    '',
  );
};

/** Directory: registration rate, p99 and whether heartbeats were sustained (goal set for PostgreSQL). */
const directoryRows: Rows = (r, _peers, row) => {
  row(
    `directory ${String(get(r.json, 'backend'))}, ${fmt(num(r.json, 'nodes'), 0)} nodes: registrations/s; p99 ms; heartbeats sustained`,
    `${fmt(num(r.json, 'registrationsPerS'))}; ${fmt(num(r.json, 'p99Ms'))}; ${String(get(r.json, 'sustained'))}`,
    get(r.json, 'backend') === 'postgres' ? '≥ 2000; ≤ 50; true' : '— (goal set for PostgreSQL); true',
    '',
    '',
    '',
    '',
  );
};

/** Churn: continuity, recovery and control traffic. */
const churnRows: Rows = (r, _peers, row) => {
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
};

/** Simulation (one N): viewers served against the bound, depth, offload, control traffic. */
const simRows: Rows = (r, _peers, row) => {
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
    `simulation N=${n}: continuity under churn (10 %/min); join → first ticket p50 / p95 (ms); control msgs per node per s`,
    `${fmt(num(r.json, 'continuity'), 4)}; ${fmt(num(r.json, 'joinToFirstTicketMs.p50'), 0)} / ${fmt(num(r.json, 'joinToFirstTicketMs.p95'), 0)}; ${fmt(num(r.json, 'msgsPerNodePerS.steady'), 2)}`,
    '≥ 0.999; —; —',
    '',
    '',
    '',
    '',
  );
};

/** A step that did not end ok. */
const failureRows: Rows = (r, _peers, row) => {
  row(`${r.step.id}: ${r.status}`, r.note ?? 'see its log in the results folder', '—', '', '', '', '');
};

/** The table's sections in order: which results each reads, and its rows. */
const SECTIONS: [(r: StepResult) => unknown, Rows][] = [
  [(x) => x.step.scenario === 'fanout', fanoutRows],
  [(x) => x.step.scenario === 'chain', chainRows],
  [(x) => x.step.scenario === 'tree' && x.json, treeRows],
  [(x) => x.step.scenario === 'failover' && x.json, failoverRows],
  [(x) => x.step.scenario === 'directory' && x.json, directoryRows],
  [(x) => x.step.scenario === 'churn' && x.json, churnRows],
  // One row pair per single-N simulation (the offload-against-N step writes several runs and a plot only).
  [(x) => x.step.scenario === 'sim' && x.json && !('results' in x.json), simRows],
  [(x) => x.status !== 'ok', failureRows],
];

/** The table's lines (Markdown): the figures of every ok step, then a row per step that did not end ok. */
export function summaryTable(results: StepResult[]): string[] {
  const peers = results.find((r) => r.step.id === 'peers')?.json;
  const rows: string[][] = [];
  const row: Row = (...cells) => void rows.push(cells);
  for (const [applies, rowsOf] of SECTIONS) for (const r of results.filter(applies)) rowsOf(r, peers, row);
  return [
    '| figure | Astral | goal | node-media-server alone | Astral ÷ NMS | nginx-rtmp | Astral ÷ nginx |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}
