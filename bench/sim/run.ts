/**
 * `npm run bench -- sim [--nodes 1000,10000,100000] [--seed S] [--source-streams 4] [--arrivals-per-s R]
 *   [--standby off|forwards|players] [--crash stall|reset] [--settle-s 30] [--churn-s 60] [--json FILE]`: the discrete-event overlay
 * simulation running the shipped machines (see docs/SIMULATION.md). Prints a table and JSON per N; with
 * `--json`, writes one object (one N) or `{ results: [...] }` (several).
 */
import { writeFileSync } from 'node:fs';
import { parseFlags, report } from '../lib/report';
import { SimParams, SimResult, simulate } from './simulator';

function summary(r: SimResult): Record<string, unknown> {
  const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    nodes: r.params.nodes,
    seed: r.params.seed,
    sourceStreams: r.params.sourceStreams,
    arrivalsPerS: r.params.arrivalsPerS,
    standby: r.params.standby,
    viewers: r.viewers,
    servable: r.servable,
    served: r.served,
    servedOfServable: round(r.servedOfServable, 4),
    sourceForwards: r.sourceForwards,
    depth: { ...r.depth, mean: round(r.depth.mean, 2), k: round(r.depth.k, 2) },
    depthWithinBound: r.depth.max <= r.depth.bound,
    supernodes: r.supernodes,
    joinToFirstTicketMs: {
      p50: Math.round(r.joinToFirstTicketMs.p50),
      p95: Math.round(r.joinToFirstTicketMs.p95),
      unserved: r.joinToFirstTicketMs.unserved,
    },
    msgsPerNodePerS: { steady: round(r.msgsPerNodePerS.steady, 2), churn: round(r.msgsPerNodePerS.churn, 2) },
    continuity: round(r.continuity, 5),
    continuitySteady: round(r.continuitySteady, 5),
    continuity1s: round(r.continuity1s, 5),
    crash: r.params.crash,
    departures: r.departures,
    recoveryMs: {
      p50: Math.round(r.recoveryMs.p50),
      p95: Math.round(r.recoveryMs.p95),
      switches: r.recoveryMs.switches,
    },
    machineFailures: r.machineFailures,
    ...(r.lastMachineFailure && { lastMachineFailure: r.lastMachineFailure }),
    messages: r.messages,
    simulatedS: round(r.simulatedS, 1),
    events: r.events,
    runtimeMs: Math.round(r.runtimeMs),
    cpuMs: Math.round(r.cpuMs),
  };
}

export function simBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const sizes = (flags.get('nodes') ?? '1000,10000,100000').split(',').map(Number);
  const standby = flags.get('standby') ?? 'off';
  if (standby !== 'off' && standby !== 'forwards' && standby !== 'players')
    throw new Error(`unknown --standby ${standby}`);
  const crash = flags.get('crash') ?? 'stall';
  if (crash !== 'stall' && crash !== 'reset') throw new Error(`unknown --crash ${crash}`);
  const num = (name: string) => (flags.has(name) ? Number(flags.get(name)) : undefined);
  const common: Omit<SimParams, 'nodes'> = {
    seed: num('seed') ?? 1,
    sourceStreams: num('source-streams') ?? 4,
    arrivalsPerS: num('arrivals-per-s'),
    standby,
    crash,
    settleMs: num('settle-s') !== undefined ? num('settle-s')! * 1000 : undefined,
    churnMs: num('churn-s') !== undefined ? num('churn-s')! * 1000 : undefined,
  };
  const results = sizes.map((nodes) => {
    const r = simulate({ nodes, ...common });
    console.error(
      `sim: ${nodes} nodes: served ${r.served}/${r.servable}, depth ${r.depth.max}/${r.depth.bound}, continuity ${r.continuity.toFixed(5)}, ${Math.round(r.runtimeMs)} ms wall, ${Math.round(r.cpuMs)} ms CPU`,
    );
    return summary(r);
  });
  // The table leaves out the per-pattern message counts (they are in the JSON file).
  for (const r of results)
    report(`sim: ${String(r.nodes)} nodes, standby ${standby}`, { ...r, messages: undefined });
  const json = flags.get('json');
  if (json)
    writeFileSync(json, `${JSON.stringify(results.length === 1 ? results[0] : { results }, null, 2)}\n`);
  return Promise.resolve();
}
