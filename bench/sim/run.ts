/**
 * `npm run bench -- sim [--nodes 1000,10000,100000] [--seed S] [--policy improved|agent] [--source-streams 4]
 *   [--arrivals-per-s 100] [--baseline] [--json FILE] [--svg FILE]`: the discrete-event overlay simulation (see
 * docs/SIMULATION.md). With more than one N it also plots offload against N (default docs/bench/offload-vs-n.svg).
 */
import { writeFileSync } from 'node:fs';
import { parseFlags, report } from '../lib/report';
import { lineChart, writeSvg } from '../lib/svg';
import { Policy, SimResult, simulate } from './simulator';

function summary(r: SimResult): Record<string, unknown> {
  return {
    nodes: r.params.nodes,
    policy: r.params.policy,
    seed: r.params.seed,
    sourceStreams: r.params.sourceStreams,
    viewers: r.viewers,
    servable: r.servable,
    served: r.served,
    servedShare: r.servedShare,
    servedOfServable: r.servedOfServable,
    offload: r.offload,
    sourceForwards: r.sourceForwards,
    rMax: r.rMax,
    depth: r.depth,
    depthWithinBound: r.depth.max <= r.depth.bound,
    supernodes: r.supernodes,
    membersPerSupernode: r.membersPerSupernode,
    ticketAttempts: r.ticketAttempts,
    joinToServedMs: r.joinToServedMs,
    msgsPerS: {
      directory: r.messages.directoryPerS,
      directorySteady: r.messages.directorySteadyPerS,
      perSupernodeMean: r.messages.perSupernodePerS.mean,
      perSupernodeMax: r.messages.perSupernodePerS.max,
      perSupernodeSteadyMean: r.messages.perSupernodeSteadyPerS.mean,
      perSupernodeSteadyMax: r.messages.perSupernodeSteadyPerS.max,
      perNode: r.messages.perNodePerS,
    },
    messages: r.messages.total,
    simulatedS: r.simulatedS,
    events: r.events,
    runtimeMs: Math.round(r.runtimeMs),
    cpuMs: Math.round(r.cpuMs),
  };
}

export function simBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const sizes = (flags.get('nodes') ?? '1000,10000,100000').split(',').map(Number);
  const policyFlag = flags.get('policy') ?? 'improved';
  if (policyFlag !== 'improved' && policyFlag !== 'agent') throw new Error(`unknown policy ${policyFlag}`);
  const policy: Policy = policyFlag;
  const common = {
    seed: Number(flags.get('seed') ?? 1),
    policy,
    sourceStreams: Number(flags.get('source-streams') ?? 4),
    arrivalsPerS: Number(flags.get('arrivals-per-s') ?? 100),
  };
  const results = sizes.map((nodes) => {
    const r = simulate({ nodes, ...common });
    console.error(
      `sim: ${nodes} nodes (${policy}): served ${r.served}/${r.servable}, depth ${r.depth.max}/${r.depth.bound}, ${Math.round(r.runtimeMs)} ms wall, ${Math.round(r.cpuMs)} ms CPU`,
    );
    return r;
  });
  // --baseline: also run today's agent policy at each N, for the plot.
  const baseline =
    flags.has('baseline') && policy !== 'agent'
      ? sizes.map((nodes) => simulate({ nodes, ...common, policy: 'agent' }))
      : [];
  for (const r of baseline)
    console.error(
      `sim: ${r.params.nodes} nodes (agent): served ${r.served}/${r.servable}, ${Math.round(r.cpuMs)} ms CPU`,
    );
  if (results.length > 1) {
    const svg = flags.get('svg') ?? 'docs/bench/offload-vs-n.svg';
    writeSvg(
      svg,
      lineChart({
        title: `Simulated offload and service against N (u_s = ${common.sourceStreams})`,
        xLabel: 'nodes N',
        yLabel: 'ratio',
        logX: true,
        yMin: 0,
        yMax: 1,
        series: [
          { name: `offload, ${policy}`, points: results.map((r) => ({ x: r.params.nodes, y: r.offload })) },
          {
            name: `served ÷ servable, ${policy}`,
            points: results.map((r) => ({ x: r.params.nodes, y: r.servedOfServable })),
          },
          ...(baseline.length
            ? [
                {
                  name: 'served ÷ servable, agent today',
                  points: baseline.map((r) => ({ x: r.params.nodes, y: r.servedOfServable })),
                },
              ]
            : []),
          {
            name: 'offload bound 1 − 1/n',
            points: results.map((r) => ({ x: r.params.nodes, y: 1 - 1 / r.viewers })),
            dashed: true,
          },
        ],
      }),
    );
    console.error(`sim: wrote ${svg}`);
  }
  for (const r of results) report(`sim: ${r.params.nodes} nodes, ${policy} policy`, summary(r));
  const json = flags.get('json');
  const all = {
    runs: results.map(summary),
    ...(baseline.length ? { agentBaseline: baseline.map(summary) } : {}),
  };
  if (json)
    writeFileSync(
      json,
      `${JSON.stringify(results.length === 1 && !baseline.length ? summary(results[0]) : all, null, 2)}\n`,
    );
  return Promise.resolve();
}
