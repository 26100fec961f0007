import { DocInput, renderDoc } from './report';
import { StepResult } from './runner';

const result: StepResult = {
  step: { id: 'fanout-k10', scenario: 'fanout', args: [], estimateS: 35, timeoutS: 240 },
  command: 'npm run bench -- fanout --consumers 10 --json bench/results/r/fanout-k10.json',
  status: 'ok',
  seconds: 31.4,
  json: { consumers: 10, mbpsPerCore: 182, peer: { mbpsPerCore: 282 }, dropRatio: 0 },
};

const input = (over: Partial<DocInput> = {}): DocInput => ({
  file: '/repo/docs/BENCHMARKS.md',
  root: '/repo',
  out: '/repo/bench/results/2026-11-30T09-14-28',
  results: [result],
  quick: false,
  totalS: 762,
  started: new Date('2026-11-30T09:14:28.305Z'),
  reruns: [],
  machine: ['- CPU: test, 2 cores (as seen by Node)'],
  analysis: ['## Where Astral is behind', '', 'by hand', ''],
  plots: ['continuity.svg'],
  ...over,
});

describe('renderDoc', () => {
  const doc = renderDoc(input());
  const lines = doc.split('\n');

  it('names the results folder and says how to regenerate the document and where results land', () => {
    expect(doc).toContain('from the JSON files in `bench/results/2026-11-30T09-14-28`; do not');
    expect(doc).toContain('To regenerate: `npm run bench:all`');
    expect(doc).toContain('`bench/results/<date>/` (not kept in git)');
    expect(doc).not.toContain('--quick` run: tiny sizes');
  });

  it('says when the run started, how long it took and which re-runs followed', () => {
    expect(doc).toContain('Run started 2026-11-30T09:14:28.305Z, took 12.7 min.\n');
    const rerun = renderDoc(
      input({ reruns: [{ steps: ['peers', 'chain-h5'], at: '2026-11-30T10:00:00.000Z', seconds: 90 }] }),
    );
    expect(rerun).toContain(
      'took 12.7 min. Re-run with `--rerun peers,chain-h5` on 2026-11-30T10:00:00.000Z (1.5 min).',
    );
  });

  it('puts the machine, the summary table, the analysis, the steps and the plots in that order', () => {
    const at = (text: string): number => lines.findIndex((l) => l.startsWith(text));
    const order = [
      '## Machine',
      '- CPU: test',
      '## Summary',
      '| fan-out K=10: Mbit/s',
      '## Where Astral is behind',
      '## Steps',
      '## Plots',
      '## Bench code',
      '## Method notes',
    ];
    const found = order.map(at);
    expect(found.every((i) => i >= 0)).toBe(true);
    expect([...found].sort((a, b) => a - b)).toEqual(found);
    expect(doc).toContain(
      '| fanout-k10 | ok | 31 | `npm run bench -- fanout --consumers 10 --json bench/results/r/fanout-k10.json` |',
    );
  });

  it('links the plots relative to the document', () => {
    expect(doc).toContain('- [continuity.svg](bench/continuity.svg) ![continuity.svg](bench/continuity.svg)');
    const elsewhere = renderDoc(input({ file: '/repo/bench/results/r/BENCHMARKS.md', plots: [] }));
    expect(elsewhere).toContain('## Plots\n\n- none yet\n');
    expect(renderDoc(input({ file: '/repo/bench/results/r/BENCHMARKS.md' }))).toContain(
      '- [continuity.svg](../../../docs/bench/continuity.svg)',
    );
  });

  it('marks a quick run', () => {
    expect(renderDoc(input({ quick: true }))).toContain(
      '**This is a `--quick` run: tiny sizes, the numbers only prove that the driver works.**',
    );
  });

  it('describes the layout of the bench code', () => {
    for (const file of [
      'bench/main.ts',
      'bench/all/plan.ts',
      'bench/all/runner.ts',
      'bench/all/report.ts',
      'bench/analysis.md',
    ])
      expect(doc).toContain(`\`${file}\``);
  });
});
