import { writeFileSync } from 'node:fs';
import { numberList } from './fanout/figures';
import { FanoutCase, FanoutSystem, SYSTEMS, runFanout } from './fanout/run';
import { fanoutTable } from './fanout/table';
import { parseFlags, report } from './lib/report';

/** The case the flat fields describe: K = 100 when measured (the first figure), else the first K; the first bit rate. */
function headlineCase(results: FanoutCase[], ks: number[], bitrates: number[], asked?: string): FanoutCase {
  const k = asked ? Number(asked) : ks.includes(100) ? 100 : ks[0];
  const c = results.find((r) => r.consumers === k && r.bitrateMbps === bitrates[0]);
  if (!c) throw new Error(`no fan-out case K=${k} at ${bitrates[0]} Mbit/s`);
  return c;
}

/**
 * `npm run bench -- fanout [--consumers 10,100,1000] [--bitrates 1,6] [--seconds S] [--headline K]
 *    [--systems astral,nodeMediaServer,nginxRtmp] [--json FILE]`
 *
 * The same stream (the sample at ~1 Mbit/s, or an ffmpeg test pattern at the other rates) published in real
 * time to each of: an Astral relay (K raw consumers on its forward port, one admitted ticket each);
 * node-media-server alone, its own process (K raw HTTP-FLV players); nginx-rtmp with one worker (K raw RTMP
 * players). Each is measured on its own process's utime+stime. K steps up within one server per bit rate.
 * The flat fields (mbpsPerCore, peer.mbpsPerCore, ratio) are the headline case, named in `headline`;
 * `results` has every case.
 */
export async function fanoutBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const ks = numberList(flags.get('consumers'), [10, 100, 1000]);
  const bitrates = numberList(flags.get('bitrates'), [1, 6]);
  const seconds = Number(flags.get('seconds') ?? 8);
  const systems = flags.get('systems')?.split(',') as FanoutSystem[] | undefined;
  for (const s of systems ?? []) if (!SYSTEMS.includes(s)) throw new Error(`unknown system ${s}`);
  const run = await runFanout({ consumers: ks, bitratesMbps: bitrates, seconds, systems });
  const h = headlineCase(run.results, ks, bitrates, flags.get('headline'));
  const a = h.astral;
  const summary = {
    consumers: ks,
    bitratesMbps: bitrates,
    seconds,
    headline: {
      consumers: h.consumers,
      bitrateMbps: h.bitrateMbps,
      note: 'mbpsPerCore, peer.* and ratio are this case; results has every case',
    },
    streamBitrateMbps: h.streamKbps / 1000,
    egressMbps: a?.egressMbps,
    relayCpuPercent: a?.cpuPercent,
    mbpsPerCore: a?.mbpsPerCore,
    cpuSecondsPerGbit: a?.cpuSecondsPerGbit,
    dropRatio: a?.dropRatio,
    droppedTags: a?.droppedTags,
    rssMb: a?.rssMb,
    connectedAtEnd: a?.connected,
    peer: {
      what: run.what.nodeMediaServer,
      egressMbps: h.nodeMediaServer?.egressMbps,
      cpuPercent: h.nodeMediaServer?.cpuPercent,
      mbpsPerCore: h.nodeMediaServer?.mbpsPerCore,
      rssMb: h.nodeMediaServer?.rssMb,
    },
    nginx: {
      what: run.what.nginxRtmp,
      egressMbps: h.nginxRtmp?.egressMbps,
      cpuPercent: h.nginxRtmp?.cpuPercent,
      mbpsPerCore: h.nginxRtmp?.mbpsPerCore,
    },
    /** Astral ÷ node-media-server alone, Mbit/s per core, headline case. Higher is better. */
    ratio: h.ratios.astralOverNodeMediaServer,
    ratioOverNginx: h.ratios.astralOverNginx,
    rssMbPer1000Consumers: run.rssMbPer1000Consumers,
  };
  console.log(fanoutTable(run.results));
  report(`fanout K=${ks.join(',')} at ${bitrates.join(',')} Mbit/s`, summary);
  const full = { ...summary, what: run.what, results: run.results };
  const file = flags.get('json');
  if (file) writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`);
}
