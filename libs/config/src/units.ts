/**
 * Parses a bit rate such as "3mbit", "2500k", "1.5M", "800000" or "unlimited" into bits per second.
 * Returns null for unlimited. Throws with a readable message otherwise.
 */
export function parseBitrate(text: string): number | null {
  const s = text.trim().toLowerCase();
  if (s === '' || s === 'unlimited' || s === 'none' || s === 'inf') return null;
  const m = /^(\d+(?:\.\d+)?)\s*(k|m|g)?(bit|bps|b\/s)?$/.exec(s);
  if (!m) {
    throw new Error(`"${text}" is not a bit rate; use e.g. 3mbit, 2500k, 800000 or unlimited`);
  }
  const scale = m[2] === 'k' ? 1e3 : m[2] === 'm' ? 1e6 : m[2] === 'g' ? 1e9 : 1;
  return Math.round(Number(m[1]) * scale);
}

export function formatBitrate(bps: number | null): string {
  if (bps === null) return 'unlimited';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(0)} kbit/s`;
  return `${bps} bit/s`;
}
