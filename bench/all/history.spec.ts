import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nextHistory, previousHistory, previousResults, writeSummary } from './history';
import { Step } from './plan';
import { StepResult } from './runner';

const step = (id: string): Step => ({ id, scenario: 'fanout', args: [], estimateS: 1, timeoutS: 2 });

describe('nextHistory', () => {
  const started = new Date('2026-11-30T10:00:00.000Z');
  const before = { started: '2026-11-30T09:14:28.305Z', totalS: 762, reruns: [] };

  it('records a first run with its own start and duration', () => {
    expect(nextHistory(undefined, { started, totalS: 700 })).toEqual({
      started: '2026-11-30T10:00:00.000Z',
      totalS: 700,
      reruns: [],
    });
  });

  it("keeps the first run's start and duration on a re-run and appends the re-run", () => {
    const once = nextHistory(before, { started, totalS: 89.6, rerun: ['peers'] });
    expect(once).toEqual({
      started: before.started,
      totalS: 762,
      reruns: [{ steps: ['peers'], at: '2026-11-30T10:00:00.000Z', seconds: 90 }],
    });
    expect(nextHistory(once, { started, totalS: 10, rerun: ['chain-h5'] }).reruns).toHaveLength(2);
  });

  it('adds nothing for a re-run of no step (the document is only rewritten)', () => {
    expect(nextHistory(before, { started, totalS: 1, rerun: [] })).toEqual(before);
  });
});

describe('summary.json', () => {
  let out: string;
  beforeEach(() => (out = mkdtempSync(join(tmpdir(), 'bench-history-'))));
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it('reads back what a run wrote, with the JSON of its ok steps, for the steps still in the plan', () => {
    const results: StepResult[] = [
      { step: step('a'), command: 'cmd a', status: 'ok', seconds: 3, json: { k: 1 } },
      { step: step('b'), command: 'cmd b', status: 'failed', note: 'exit code 1', seconds: 4 },
      { step: step('gone'), command: 'cmd gone', status: 'ok', seconds: 5 },
    ];
    writeFileSync(join(out, 'a.json'), JSON.stringify({ k: 1 }));
    writeFileSync(join(out, 'b.json'), JSON.stringify({ partial: true }));
    const history = { started: '2026-11-30T09:14:28.305Z', totalS: 762, reruns: [] };
    writeSummary(out, history, false, results);

    expect(previousHistory(out)).toEqual(history);
    const found = previousResults(out, [step('a'), step('b'), step('c')]);
    expect([...found.keys()]).toEqual(['a', 'b']);
    expect(found.get('a')).toEqual({ ...results[0], step: step('a') });
    // A failed step's JSON is not taken, even when it left one.
    expect(found.get('b')).toEqual({
      step: step('b'),
      command: 'cmd b',
      status: 'failed',
      note: 'exit code 1',
      seconds: 4,
      json: undefined,
    });
  });

  it('says what --rerun needs when the folder holds no earlier run', () => {
    expect(() => previousHistory(out)).toThrow(
      `--rerun needs --out DIR of an earlier run (no ${join(out, 'summary.json')})`,
    );
  });
});
