/**
 * Players per core: whether one step of the ladder was served cleanly, and the most players served before
 * the first step that was not. Pure, unit-tested.
 */

export interface StepSample {
  players: number;
  /** Players that opened and were still open at the end of the window. */
  bytes: number[];
  lagMs: number[];
  ended: number;
  openFailures: number;
  seconds: number;
  expectedBytes: number;
  /** The server's CPU over the window, % of the one core it is pinned to. */
  cpuPercent: number;
  /** The client processes' CPU, % of the one core they share. */
  clientCpuPercent: number;
  rssMb: number;
}

export interface StepLimits {
  /** A player further behind live than this has fallen behind real time. */
  lagMs: number;
  /** A player that received less than this share of the input dropped data (or was cut back). */
  minDelivered: number;
  /** CPU at or above this is a saturated core (server or clients). */
  cpuPercent: number;
}

export const DEFAULT_LIMITS: StepLimits = { lagMs: 1000, minDelivered: 0.9, cpuPercent: 95 };

export interface StepFigures {
  players: number;
  ok: boolean;
  /** Why the step failed: 'drops', 'lag', 'disconnects', 'refused', 'server CPU', 'client CPU'. */
  reasons: string[];
  cpuPercent: number;
  clientCpuPercent: number;
  egressMbps: number;
  deliveredMin: number;
  shortPlayers: number;
  laggingPlayers: number;
  maxLagMs: number;
  ended: number;
  openFailures: number;
  rssMb: number;
}

export function stepFigures(s: StepSample, limits: StepLimits = DEFAULT_LIMITS): StepFigures {
  const shares = s.bytes.map((b) => b / s.expectedBytes);
  const short = shares.filter((x) => x < limits.minDelivered).length;
  const lagging = s.lagMs.filter((x) => x > limits.lagMs).length;
  const reasons: string[] = [];
  if (short) reasons.push('drops');
  if (lagging) reasons.push('lag');
  if (s.ended) reasons.push('disconnects');
  if (s.openFailures) reasons.push('refused');
  if (s.cpuPercent >= limits.cpuPercent) reasons.push('server CPU');
  if (s.clientCpuPercent >= limits.cpuPercent) reasons.push('client CPU');
  return {
    players: s.players,
    ok: reasons.length === 0,
    reasons,
    cpuPercent: s.cpuPercent,
    clientCpuPercent: s.clientCpuPercent,
    egressMbps: (s.bytes.reduce((a, b) => a + b, 0) * 8) / s.seconds / 1e6,
    deliveredMin: shares.length ? Math.min(...shares) : 0,
    shortPlayers: short,
    laggingPlayers: lagging,
    maxLagMs: s.lagMs.length ? Math.max(...s.lagMs) : 0,
    ended: s.ended,
    openFailures: s.openFailures,
    rssMb: s.rssMb,
  };
}

export interface LadderResult {
  /** The most players of a clean step before the first step that was not (0 if the first failed). */
  maxPlayers: number;
  /** What ended the ladder: the server ('server'), the clients ('clients': a lower bound), or none ('steps'). */
  limitedBy: 'server' | 'clients' | 'steps';
}

export function ladderResult(steps: StepFigures[]): LadderResult {
  let maxPlayers = 0;
  for (const s of steps) {
    if (!s.ok) {
      const clientsOnly = s.reasons.includes('client CPU') && !s.reasons.includes('server CPU');
      return { maxPlayers, limitedBy: clientsOnly ? 'clients' : 'server' };
    }
    maxPlayers = s.players;
  }
  return { maxPlayers, limitedBy: 'steps' };
}
