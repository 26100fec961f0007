import { percentile } from './report';

/**
 * Publisher-to-player latency, all on this process's clock (performance.now()): the publisher reports when
 * it wrote each video frame (by its FLV timestamp), a player at some depth when each frame arrived, and a
 * frame's latency is the difference. Pure: bench/chain.ts and bench/peers/nginx-chain.ts feed it.
 */

export interface Arrival {
  timestamp: number;
  arrivalMs: number;
}

export interface LatencyStats {
  p50: number;
  p95: number;
  samples: number;
}

/**
 * Latency of every frame written within [fromMs, toMs) that reached the player: its first arrival minus its
 * write time, sorted. A frame that never came is not a sample (the sample count says how many did).
 */
export function frameLatencies(
  written: ReadonlyMap<number, number>,
  arrivals: Iterable<Arrival>,
  fromMs: number,
  toMs: number,
): number[] {
  const first = new Map<number, number>();
  for (const a of arrivals) if (!first.has(a.timestamp)) first.set(a.timestamp, a.arrivalMs);
  const out: number[] = [];
  for (const [ts, at] of written) {
    if (at < fromMs || at >= toMs) continue;
    const got = first.get(ts);
    if (got !== undefined) out.push(got - at);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Per frame written within [fromMs, toMs), its arrival at `b` minus its arrival at `a` (the hop between two
 * readers on one clock), sorted; frames missing at either end are left out.
 */
export function hopLatencies(
  written: ReadonlyMap<number, number>,
  a: Iterable<Arrival>,
  b: Iterable<Arrival>,
  fromMs: number,
  toMs: number,
): number[] {
  const firstOf = (list: Iterable<Arrival>): Map<number, number> => {
    const m = new Map<number, number>();
    for (const x of list) if (!m.has(x.timestamp)) m.set(x.timestamp, x.arrivalMs);
    return m;
  };
  const atA = firstOf(a);
  const atB = firstOf(b);
  const out: number[] = [];
  for (const [ts, at] of written) {
    if (at < fromMs || at >= toMs) continue;
    const ta = atA.get(ts);
    const tb = atB.get(ts);
    if (ta !== undefined && tb !== undefined) out.push(tb - ta);
  }
  return out.sort((x, y) => x - y);
}

export function latencyStats(sorted: number[]): LatencyStats {
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), samples: sorted.length };
}

/**
 * The least-squares slope of `values` over their depths (y = a + b·depth, returns b): the latency one more
 * level adds, using every depth rather than only the two ends. NaN with fewer than two finite points.
 */
export function slopePerLevel(points: { depth: number; value: number }[]): number {
  const ps = points.filter((p) => Number.isFinite(p.value));
  if (ps.length < 2) return NaN;
  const mx = ps.reduce((s, p) => s + p.depth, 0) / ps.length;
  const my = ps.reduce((s, p) => s + p.value, 0) / ps.length;
  let num = 0;
  let den = 0;
  for (const p of ps) {
    num += (p.depth - mx) * (p.value - my);
    den += (p.depth - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** Per protocol, the slope of its p50s and of its p95s over depth (slopePerLevel). */
export function perLevel<K extends string>(
  byDepth: Partial<Record<K, LatencyStats>>[],
  protocol: K,
): { p50: number; p95: number } {
  const points = (k: 'p50' | 'p95'): { depth: number; value: number }[] =>
    byDepth.map((d, depth) => {
      const s = d[protocol];
      return { depth, value: s?.samples ? s[k] : NaN };
    });
  return { p50: slopePerLevel(points('p50')), p95: slopePerLevel(points('p95')) };
}

/**
 * Video sample decode times (ms) of an fMP4 media fragment (a part or segment from the relay's segmenter):
 * per moof/traf of `trackId`, tfdt's baseMediaDecodeTime plus the trun durations, in `timescale` ticks.
 * The segmenter writes FLV timestamps × 90 on the 90 kHz video track, so these are the frames' timestamps.
 */
export function fragmentDecodeTimesMs(body: Buffer, trackId = 1, timescale = 90_000): number[] {
  const out: number[] = [];
  const boxes = (
    from: number,
    to: number,
    each: (type: string, start: number, end: number) => void,
  ): void => {
    for (let at = from; at + 8 <= to;) {
      const size = body.readUInt32BE(at);
      if (size < 8 || at + size > to) return;
      each(body.toString('latin1', at + 4, at + 8), at + 8, at + size);
      at += size;
    }
  };
  boxes(0, body.length, (type, s, e) => {
    if (type !== 'moof') return;
    boxes(s, e, (t2, s2, e2) => {
      if (t2 !== 'traf') return;
      let track = -1;
      let base = 0;
      let durations: number[] = [];
      boxes(s2, e2, (t3, s3) => {
        const version = body[s3];
        const flags = body.readUIntBE(s3 + 1, 3);
        if (t3 === 'tfhd') track = body.readUInt32BE(s3 + 4);
        else if (t3 === 'tfdt')
          base =
            version === 1
              ? body.readUInt32BE(s3 + 4) * 2 ** 32 + body.readUInt32BE(s3 + 8)
              : body.readUInt32BE(s3 + 4);
        else if (t3 === 'trun') {
          const n = body.readUInt32BE(s3 + 4);
          let at = s3 + 8 + (flags & 0x1 ? 4 : 0) + (flags & 0x4 ? 4 : 0);
          const per = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length * 4;
          durations = [];
          for (let i = 0; i < n; i++, at += per) durations.push(flags & 0x100 ? body.readUInt32BE(at) : 0);
        }
      });
      if (track !== trackId) return;
      let dts = base;
      for (const d of durations) {
        out.push(Math.round((dts * 1000) / timescale));
        dts += d;
      }
    });
  });
  return out;
}
