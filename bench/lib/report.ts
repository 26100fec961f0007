import { writeFileSync } from 'node:fs';
import Table from 'cli-table3';

/** Flattens nested objects to dotted keys for the table. */
function flatten(value: unknown, prefix = '', out: [string, string][] = []): [string, string][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    const text = typeof value === 'number' ? String(Math.round(value * 100) / 100) : JSON.stringify(value);
    out.push([prefix, text]);
  }
  return out;
}

/** Prints a result as a table and as one line of JSON; writes the JSON to `jsonFile` if given. */
export function report(title: string, result: Record<string, unknown>, jsonFile?: string): void {
  const table = new Table({ head: [title, 'value'] });
  for (const row of flatten(result)) table.push(row);
  console.log(table.toString());
  const json = JSON.stringify(result, null, 2);
  console.log(JSON.stringify(result));
  if (jsonFile) writeFileSync(jsonFile, `${json}\n`);
}

/** `--name value` flags into a map. */
export function parseFlags(args: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const next = args[i + 1];
    if (next === undefined || next.startsWith('--')) flags.set(a.slice(2), 'true');
    else {
      flags.set(a.slice(2), next);
      i++;
    }
  }
  return flags;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
