import { Step } from './plan';
import { StepResult } from './runner';
import { fmt, summaryTable } from './summary-table';

const step = (id: string, scenario: string): Step => ({ id, scenario, args: [], estimateS: 1, timeoutS: 2 });
const ok = (id: string, scenario: string, json: Record<string, unknown>): StepResult => ({
  step: step(id, scenario),
  command: `npm run bench -- ${scenario}`,
  status: 'ok',
  seconds: 10,
  json,
});
/** The cells of the table row whose figure starts with `figure`. */
const row = (table: string[], figure: string): string[] | undefined =>
  table
    .find((l) => l.startsWith(`| ${figure}`))
    ?.slice(2, -2)
    .split(' | ');

describe('fmt', () => {
  it('shows whole numbers from 100, decimals below, and a dash for a missing figure', () => {
    expect(fmt(1529.4)).toBe('1529');
    expect(fmt(-150.6)).toBe('-151');
    expect(fmt(0.1834)).toBe('0.18');
    expect(fmt(0.1834, 3)).toBe('0.183');
    expect(fmt(NaN)).toBe('—');
    expect(fmt(Infinity)).toBe('—');
  });
});

describe('summaryTable', () => {
  const peers = ok('peers', 'peers', {
    consumers: 100,
    hops: 5,
    nodes: 10,
    fanout: { nginxRtmp: { mbpsPerCore: 2500 } },
    chain: { nginxRtmp: { perHopP50Ms: 0.05, perHopP95Ms: 0.5 } },
    sourceEgress: { nginxRtmpSingle: { kbps: 9000 }, nginxRtmpTree: { kbps: 2000 } },
  });

  it('starts with the header and puts each row in seven cells', () => {
    const table = summaryTable([
      ok('fanout-k10', 'fanout', { consumers: 10, mbpsPerCore: 180, peer: { mbpsPerCore: 300 } }),
    ]);
    expect(table.slice(0, 2)).toEqual([
      '| figure | Astral | goal | node-media-server alone | Astral ÷ NMS | nginx-rtmp | Astral ÷ nginx |',
      '|---|---|---|---|---|---|---|',
    ]);
    for (const line of table.slice(2)) expect(line.slice(2, -2).split(' | ')).toHaveLength(7);
  });

  it('compares a fan-out with nginx only at the K the peers step measured', () => {
    const table = summaryTable([
      ok('fanout-k10', 'fanout', {
        consumers: 10,
        mbpsPerCore: 180,
        peer: { mbpsPerCore: 300 },
        dropRatio: 0,
      }),
      ok('fanout-k100', 'fanout', {
        consumers: 100,
        mbpsPerCore: 1250,
        peer: { mbpsPerCore: 1000 },
        dropRatio: 0.001,
      }),
      peers,
    ]);
    expect(row(table, 'fan-out K=10: Mbit/s')).toEqual([
      'fan-out K=10: Mbit/s per CPU core (higher is better)',
      '180',
      '≥ 1000, ahead of NMS',
      '300',
      '0.60×',
      '—',
      '—',
    ]);
    expect(row(table, 'fan-out K=100: Mbit/s')?.slice(1)).toEqual([
      '1250',
      '≥ 1000, ahead of NMS',
      '1000',
      '1.25×',
      '2500',
      '0.50×',
    ]);
    expect(row(table, 'fan-out K=100: forward drop ratio')?.[1]).toBe('0.0010');
  });

  it('shows the per-hop latency of a chain beside nginx at the same number of hops', () => {
    const table = summaryTable([
      ok('chain-h5', 'chain', { hops: 5, perHopLatencyMs: { p50: 0.2, p95: 1.5 } }),
      peers,
    ]);
    expect(row(table, 'chain H=5: per-hop latency p50')?.slice(1)).toEqual([
      '0.20',
      '≤ 20',
      'no relay chain',
      '—',
      '0.05',
      '4.00×',
    ]);
    expect(row(table, 'chain H=5: per-hop latency p95')?.slice(1)).toEqual([
      '1.50',
      '≤ 50',
      'no relay chain',
      '—',
      '0.50',
      '3.00×',
    ]);
  });

  it("computes node-media-server's egress for a tree as N−1 copies and compares with nginx's trees", () => {
    const table = summaryTable([
      ok('tree-n10', 'tree', {
        nodes: 10,
        sourceEgressKbps: 1000,
        bitrateKbps: 1000,
        offload: 0.89,
        offloadGoal: 0.8,
        deliveryRatio: 1,
        maxDepth: 4,
        joinMs: { p50: 46.25 },
      }),
      peers,
    ]);
    expect(row(table, 'tree N=10: source egress')?.slice(1)).toEqual([
      '1000',
      '≤ 2 × 1000',
      '9000 (one server, N−1 copies, computed)',
      '0.11×',
      'tree by hand: 2000; one server: 9000',
      '0.50× / 0.11×',
    ]);
    expect(row(table, 'tree N=10: offload')?.slice(0, 3)).toEqual([
      'tree N=10: offload (goal ≥ 0.80)',
      '0.89',
      '≥ 0.80',
    ]);
    expect(row(table, 'tree N=10: delivery ratio')?.[1]).toBe('1.000 / 4 / 46.25');
  });

  it('gives the PostgreSQL directory its goal and SQLite none', () => {
    const dir = (backend: string): StepResult =>
      ok(`directory-${backend}`, 'directory', {
        backend,
        nodes: 10000,
        registrationsPerS: 3116,
        p99Ms: 94.45,
        sustained: true,
      });
    const table = summaryTable([dir('sqlite'), dir('postgres')]);
    expect(row(table, 'directory sqlite')?.slice(1, 3)).toEqual([
      '3116; 94.45; true',
      '— (goal set for PostgreSQL); true',
    ]);
    expect(row(table, 'directory postgres')?.[2]).toBe('≥ 2000; ≤ 50; true');
  });

  it('leaves out a multi-N simulation and lists the steps that did not end ok', () => {
    const table = summaryTable([
      ok('sim-1k-10k', 'sim', { results: [] }),
      ok('sim-10k', 'sim', {
        nodes: 10000,
        servedOfServable: 1,
        served: 9999,
        servable: 9999,
        depth: { max: 11, bound: 12 },
      }),
      {
        step: step('churn-n30', 'churn'),
        command: 'c',
        status: 'timeout',
        note: 'killed after 600 s',
        seconds: 600,
      },
      { step: step('failover-n30', 'failover'), command: 'f', status: 'failed', seconds: 3 },
    ]);
    expect(table.filter((l) => l.startsWith('| simulation'))).toHaveLength(2);
    expect(row(table, 'simulation N=10000: share')?.[1]).toBe('1.000 (9999 of 9999); 11 (bound 12)');
    expect(row(table, 'churn-n30: timeout')?.slice(0, 3)).toEqual([
      'churn-n30: timeout',
      'killed after 600 s',
      '—',
    ]);
    expect(row(table, 'failover-n30: failed')?.[1]).toBe('see its log in the results folder');
    expect(table.some((l) => l.startsWith('| churn N='))).toBe(false);
  });
});
