/** Saves the inputs around a crash (and the culprit once replayed alone) under the run's output dir. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FuzzInput } from './corpus';

export interface CrashRecord {
  /** Inputs sent before the crash was seen. */
  afterInputs: number;
  atSeconds: number;
  exit: string;
  /** Crash lines of the target's log (the error and its stack). */
  stack: string[];
  /** Where the suspects were saved. */
  dir: string;
  suspects: number;
  /** The input that crashed the target again when replayed alone, if one did. */
  culprit: { n: number; label: string; how: string; ops: string[]; file: string; stack: string[] } | null;
}

const describe = (i: FuzzInput): Record<string, unknown> => ({
  n: i.n,
  how: i.how,
  label: i.label,
  ops: i.ops,
  bytes: i.bytes.length,
  slow: i.slow,
});

/** Writes each suspect as input-<n>.bin plus index.json (label, how, ops) and the log excerpt. */
export function saveSuspects(dir: string, suspects: readonly FuzzInput[], stack: string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const s of suspects) writeFileSync(join(dir, `input-${s.n}.bin`), s.bytes);
  writeFileSync(
    join(dir, 'index.json'),
    `${JSON.stringify({ suspects: suspects.map(describe), stack }, null, 2)}\n`,
  );
}

export function saveCulprit(dir: string, input: FuzzInput, stack: string[]): string {
  const file = join(dir, `culprit-${input.n}.bin`);
  writeFileSync(file, input.bytes);
  writeFileSync(
    join(dir, 'culprit.json'),
    `${JSON.stringify({ ...describe(input), file, stack }, null, 2)}\n`,
  );
  return file;
}
