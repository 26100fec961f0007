/**
 * The fan-out figures from raw measurements: one server's phase (bytes delivered, its own CPU, RSS), a
 * case's three servers side by side with the ratios, and RSS per 1,000 consumers. Pure, unit-tested.
 */

export type ServerName = 'astral' | 'nodeMediaServer' | 'nginxRtmp';
export const SERVERS: ServerName[] = ['astral', 'nodeMediaServer', 'nginxRtmp'];

/** What one server's measurement window saw. */
export interface PhaseSample {
  consumers: number;
  /** Bytes each consumer read in the window. */
  bytes: number[];
  /** Consumers that were closed by the server by the end of the window. */
  ended: number;
  seconds: number;
  /** The server process's utime+stime in the window. */
  cpuSeconds: number;
  /** The server's peak RSS in the window, MB. */
  rssMb: number;
  /** Bytes one consumer should read in the window: the input's average rate × the window. */
  expectedBytes: number;
  /** Astral only: tags its forwards dropped in the window (from /stats), and tags in × consumers. */
  droppedTags?: number;
  tagsOffered?: number;
  /** utime+stime of the client processes in the window (to show they were not the bottleneck). */
  clientCpuSeconds: number;
}

export interface PhaseFigures {
  consumers: number;
  egressMbps: number;
  cpuPercent: number;
  mbpsPerCore: number;
  /** CPU-seconds the server spent per Gbit delivered (lower is better). */
  cpuSecondsPerGbit: number;
  rssMb: number;
  /** The least a consumer received, and the mean, as a share of what the input carried in the window. */
  deliveredMin: number;
  deliveredMean: number;
  /** Consumers that received under 90 % of the input (dropped or fell behind), or were closed. */
  shortConsumers: number;
  droppedTags?: number;
  dropRatio?: number;
  clientCpuPercent: number;
  /** Consumers that could not be opened, and the last reason. */
  openFailures?: number;
  openError?: string;
}

export function phaseFigures(s: PhaseSample): PhaseFigures {
  const total = s.bytes.reduce((a, b) => a + b, 0);
  const egressMbps = (total * 8) / s.seconds / 1e6;
  const cpuPercent = (100 * s.cpuSeconds) / s.seconds;
  const shares = s.bytes.map((b) => b / s.expectedBytes);
  const missing = Math.max(0, s.consumers - s.bytes.length);
  const f: PhaseFigures = {
    consumers: s.consumers,
    egressMbps,
    cpuPercent,
    mbpsPerCore: egressMbps / (cpuPercent / 100),
    cpuSecondsPerGbit: s.cpuSeconds / ((total * 8) / 1e9),
    rssMb: s.rssMb,
    deliveredMin: missing ? 0 : Math.min(...shares),
    deliveredMean: shares.reduce((a, b) => a + b, 0) / Math.max(1, s.consumers),
    shortConsumers: Math.max(s.ended, missing + shares.filter((x) => x < 0.9).length),
    clientCpuPercent: (100 * s.clientCpuSeconds) / s.seconds,
  };
  if (s.droppedTags !== undefined) {
    f.droppedTags = s.droppedTags;
    f.dropRatio = s.droppedTags / Math.max(1, s.tagsOffered ?? 0);
  }
  return f;
}

export interface CaseResult {
  consumers: number;
  bitrateMbps: number;
  /** The input's measured average rate. */
  inputMbps: number;
  astral: PhaseFigures;
  nodeMediaServer: PhaseFigures;
  nginxRtmp: PhaseFigures;
  /** Mbit/s per core, Astral ÷ peer (higher is better). */
  astralOverNodeMediaServer: number;
  astralOverNginx: number;
}

export function caseResult(
  consumers: number,
  bitrateMbps: number,
  inputMbps: number,
  by: Record<ServerName, PhaseFigures>,
): CaseResult {
  return {
    consumers,
    bitrateMbps,
    inputMbps,
    ...by,
    astralOverNodeMediaServer: by.astral.mbpsPerCore / by.nodeMediaServer.mbpsPerCore,
    astralOverNginx: by.astral.mbpsPerCore / by.nginxRtmp.mbpsPerCore,
  };
}

/**
 * RSS per 1,000 consumers for each bit rate and server: (RSS at the largest K − RSS at the smallest K) ÷
 * (their difference in K) × 1000. Absent for a bit rate measured at one K only.
 */
export function rssPer1000(
  results: CaseResult[],
): { bitrateMbps: number; fromK: number; toK: number; mb: Record<ServerName, number> }[] {
  const out = [];
  for (const rate of [...new Set(results.map((r) => r.bitrateMbps))]) {
    const cases = results.filter((r) => r.bitrateMbps === rate).sort((a, b) => a.consumers - b.consumers);
    const lo = cases[0];
    const hi = cases[cases.length - 1];
    if (hi.consumers === lo.consumers) continue;
    const per = (s: ServerName): number =>
      ((hi[s].rssMb - lo[s].rssMb) / (hi.consumers - lo.consumers)) * 1000;
    out.push({
      bitrateMbps: rate,
      fromK: lo.consumers,
      toK: hi.consumers,
      mb: { astral: per('astral'), nodeMediaServer: per('nodeMediaServer'), nginxRtmp: per('nginxRtmp') },
    });
  }
  return out;
}

/** `10,100,1000` → [10, 100, 1000]; each a positive number. */
export function numberList(text: string, what: string): number[] {
  const list = text.split(',').map((x) => Number(x.trim()));
  if (!list.length || list.some((x) => !Number.isFinite(x) || x <= 0))
    throw new Error(`--${what} wants a comma-separated list of positive numbers, got ${text}`);
  return list;
}
