import Table from 'cli-table3';
import { FanoutFigures } from './figures';
import { FanoutCase, SYSTEMS } from './run';

const f = (n: number | undefined, d = 0): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));

/** One row per (K, bit rate, system): the figures side by side, so the peers read against Astral. */
export function fanoutTable(results: FanoutCase[]): string {
  const t = new Table({
    head: ['K', 'Mbit/s', 'system', 'egress Mbit/s', 'CPU %', 'Mbit/s/core', 'CPU-s/Gbit', 'delivered %', 'drops', 'RSS MB'],
  });
  for (const c of results)
    for (const s of SYSTEMS) {
      const x: FanoutFigures | undefined = c[s];
      if (!x) continue;
      t.push([
        c.consumers,
        f(c.streamKbps / 1000, 2),
        s,
        f(x.egressMbps),
        f(x.cpuPercent),
        f(x.mbpsPerCore),
        f(x.cpuSecondsPerGbit, 2),
        f(100 * x.deliveredOfExpected, 1),
        x.droppedTags === undefined ? '–' : String(x.droppedTags),
        f(x.rssMb),
      ]);
    }
  return t.toString();
}
