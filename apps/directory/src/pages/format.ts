import { formatBitrate } from '@astral/config';

/** A bit rate for people ("250 kbit/s"); "—" while unknown. */
export function bitrateText(bps: number | null): string {
  return bps === null ? '—' : formatBitrate(bps);
}

/** A video size ("320×240"); "—" while unknown. */
export function resolutionText(width: number | null, height: number | null): string {
  return width && height ? `${width}×${height}` : '—';
}

/** How long since an ISO time, coarse ("45 s", "12 min", "3 h 05 min", "2 d 4 h"); "—" for none or the future. */
export function durationSince(iso: string | null, now: number): string {
  if (!iso) return '—';
  const s = Math.floor((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s) || s < 0) return '—';
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ${String(min % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "1 viewer", "3 viewers". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
