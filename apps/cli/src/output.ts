import Table from 'cli-table3';

/** A bordered table for humans. Cells are printed as given. */
/** Colours only on a terminal, so that piped output stays plain text. */
function style(head: string[]): { head: string[]; border: string[] } {
  return process.stdout.isTTY ? { head, border: ['grey'] } : { head: [], border: [] };
}

export function renderTable(head: string[], rows: (string | number)[][]): string {
  const table = new Table({ head, style: style(['cyan']), wordWrap: false });
  for (const row of rows) table.push(row.map((c) => String(c)));
  return table.toString();
}

/** Two columns, label and value, for one record. */
export function renderRecord(record: [string, string | number][]): string {
  const table = new Table({ style: style([]) });
  for (const [label, value] of record) table.push({ [label]: String(value) });
  return table.toString();
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One JSON value on one line, for streams of records (`astral node events --json`). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A bit rate for humans: null is unlimited, 0 is "0 (never forward)". */
export function formatBps(bps: number | null | undefined, nullMeans = 'unlimited'): string {
  if (bps === null || bps === undefined) return nullMeans;
  if (bps === 0) return '0';
  if (bps >= 1e9) return `${trim(bps / 1e9)} Gbit/s`;
  if (bps >= 1e6) return `${trim(bps / 1e6)} Mbit/s`;
  if (bps >= 1e3) return `${trim(bps / 1e3)} kbit/s`;
  return `${Math.round(bps)} bit/s`;
}

function trim(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** How long ago an epoch-ms or ISO time was, e.g. "42s", "3m 5s", "2h 10m". */
export function formatAge(at: number | string | null | undefined, now = Date.now()): string {
  if (at === null || at === undefined) return '-';
  const t = typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(t)) return '-';
  return formatDuration(now - t);
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** A UUID shortened for a table cell (the first 8 characters); --json always shows the full id. */
export function shortId(id: string | null | undefined): string {
  if (!id) return '-';
  return id.length > 13 ? id.slice(0, 8) : id;
}
