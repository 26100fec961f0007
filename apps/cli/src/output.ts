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
