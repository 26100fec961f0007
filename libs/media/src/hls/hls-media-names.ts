/**
 * The media names under a segmenting run's epoch (libs/contracts hls.ts): `init<k>.mp4`, `s<msn>.m4s`,
 * `p<msn>.<part>.m4s`. Parsing is strict: anything else, leading zeros or numbers past 2^53 included, is
 * not a name (null), never an exception.
 */

export type HlsMediaName =
  | { kind: 'init'; index: number }
  | { kind: 'segment'; msn: number }
  | { kind: 'part'; msn: number; part: number };

const NUMBER = '(0|[1-9][0-9]{0,15})';
const INIT_NAME = new RegExp(`^init${NUMBER}\\.mp4$`);
const SEGMENT_NAME = new RegExp(`^s${NUMBER}\\.m4s$`);
const PART_NAME = new RegExp(`^p${NUMBER}\\.${NUMBER}\\.m4s$`);

export function initName(index: number): string {
  return `init${index}.mp4`;
}

export function segmentName(msn: number): string {
  return `s${msn}.m4s`;
}

export function partName(msn: number, part: number): string {
  return `p${msn}.${part}.m4s`;
}

export function parseMediaName(name: string): HlsMediaName | null {
  if (typeof name !== 'string' || name.length > 48) return null;
  let m = INIT_NAME.exec(name);
  if (m) return safe(m[1]) === null ? null : { kind: 'init', index: Number(m[1]) };
  m = SEGMENT_NAME.exec(name);
  if (m) return safe(m[1]) === null ? null : { kind: 'segment', msn: Number(m[1]) };
  m = PART_NAME.exec(name);
  if (m && safe(m[1]) !== null && safe(m[2]) !== null)
    return { kind: 'part', msn: Number(m[1]), part: Number(m[2]) };
  return null;
}

function safe(digits: string): number | null {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}
