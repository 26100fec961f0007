import { writeFileSync } from 'node:fs';
import Table from 'cli-table3';
import { CaseResult, SERVERS, numberList, rssPer1000 } from './fanout/figures';
import { runFanout } from './fanout/run';
import { parseFlags } from './lib/report';

const round = (x: number | undefined, d = 2): number | null =>
  x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d;

function printCases(results: CaseResult[]): void {
  const t = new Table({
    head: [
      'K',
      'Mbit/s',
      'server',
      'egress Mbit/s',
      'CPU %',
      'Mbit/s/core',
      'CPU-s/Gbit',
      'RSS MB',
      'delivered min',
      'short',
      'client CPU %',
    ],
  });
  for (const r of results)
    for (const s of SERVERS) {
      const f = r[s];
      t.push(
        [
          r.consumers,
          r.bitrateMbps,
          s,
          round(f.egressMbps, 1),
          round(f.cpuPercent, 1),
          round(f.mbpsPerCore, 0),
          round(f.cpuSecondsPerGbit, 3),
          round(f.rssMb, 1),
          round(f.deliveredMin, 3),
          f.shortConsumers,
          round(f.clientCpuPercent, 0),
        ].map(String),
      );
    }
  console.log(t.toString());
  const ratios = new Table({ head: ['K', 'Mbit/s', 'Astral ÷ node-media-server', 'Astral ÷ nginx-rtmp'] });
  for (const r of results)
    ratios.push(
      [r.consumers, r.bitrateMbps, round(r.astralOverNodeMediaServer), round(r.astralOverNginx)].map(String),
    );
  console.log(ratios.toString());
}

/**
 * `npm run bench -- fanout [--consumers 10,100,1000] [--bitrates 1,6] [--seconds S] [--client-processes N]
 *   [--json FILE]`: Astral's forwards, node-media-server alone and nginx-rtmp fanning one real-time stream
 * out to K consumers, for every K and bit rate, in one run (bench/fanout/run.ts). The top-level fields
 * (`mbpsPerCore`, `peer.mbpsPerCore`, `ratio`, …) are the headline case: the first K and the first bit rate
 * of the lists; `results` holds every case.
 */
export async function fanoutBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const consumers = numberList(flags.get('consumers') ?? '10,100,1000', 'consumers');
  const bitratesMbps = numberList(flags.get('bitrates') ?? '1,6', 'bitrates');
  const seconds = Number(flags.get('seconds') ?? 10);
  const clientProcesses = Number(flags.get('client-processes') ?? 2);
  const results = await runFanout({ consumers, bitratesMbps, seconds, clientProcesses });
  const h = results[0];
  const result = {
    headline: {
      consumers: h.consumers,
      bitrateMbps: h.bitrateMbps,
      why: 'the first K and bit rate of the lists',
    },
    consumers: h.consumers,
    consumerList: consumers,
    bitratesMbps,
    seconds,
    clientProcesses,
    streamBitrateMbps: h.inputMbps,
    egressMbps: h.astral.egressMbps,
    relayCpuPercent: h.astral.cpuPercent,
    mbpsPerCore: h.astral.mbpsPerCore,
    cpuSecondsPerGbit: h.astral.cpuSecondsPerGbit,
    dropRatio: h.astral.dropRatio ?? 0,
    rssMb: h.astral.rssMb,
    connectedAtEnd: h.consumers - h.astral.shortConsumers,
    peer: {
      what: 'node-media-server alone (its own process), HTTP-FLV players, same input',
      egressMbps: h.nodeMediaServer.egressMbps,
      cpuPercent: h.nodeMediaServer.cpuPercent,
      mbpsPerCore: h.nodeMediaServer.mbpsPerCore,
      rssMb: h.nodeMediaServer.rssMb,
    },
    nginx: {
      what: 'nginx-rtmp (one worker), RTMP players, same input',
      egressMbps: h.nginxRtmp.egressMbps,
      cpuPercent: h.nginxRtmp.cpuPercent,
      mbpsPerCore: h.nginxRtmp.mbpsPerCore,
      rssMb: h.nginxRtmp.rssMb,
    },
    /** Astral ÷ node-media-server alone, Mbit/s per core (higher is better). */
    ratio: h.astralOverNodeMediaServer,
    ratioNginx: h.astralOverNginx,
    results,
    rssMbPer1000Consumers: rssPer1000(results),
  };
  printCases(results);
  const json = JSON.stringify(result, null, 2);
  console.log(JSON.stringify(result));
  if (flags.get('json')) writeFileSync(flags.get('json')!, `${json}\n`);
}
