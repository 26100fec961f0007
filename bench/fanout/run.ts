import { join } from 'node:path';
import { makeTempDir, removeTempDir, sleep } from '@astral/testing';
import { startRelayTestbed } from '../lib/relay-testbed';
import { FanoutFigures, fanoutFigures, rssMbPer1000 } from './figures';
import { StreamFixture, streamFixture } from './stream-fixture';
import { ByteCounter, FanoutTarget, astralTarget, nginxTarget, nmsTarget } from './targets';
import { measureWindow } from './window';

export const SYSTEMS = ['astral', 'nodeMediaServer', 'nginxRtmp'] as const;
export type FanoutSystem = (typeof SYSTEMS)[number];

/** One (K, bit rate): each system's figures and Astral's ratios to the peers (Mbit/s per core; > 1 is ahead). */
export interface FanoutCase {
  consumers: number;
  bitrateMbps: number;
  streamKbps: number;
  astral?: FanoutFigures;
  nodeMediaServer?: FanoutFigures;
  nginxRtmp?: FanoutFigures;
  ratios: { astralOverNodeMediaServer?: number; astralOverNginx?: number };
}

export interface FanoutRun {
  results: FanoutCase[];
  /** Per system, per bit rate (Mbit/s as the key): MB of RSS per 1,000 consumers. */
  rssMbPer1000Consumers: Record<string, Record<string, number>>;
  what: Record<string, string>;
}

export interface FanoutOptions {
  consumers: number[];
  bitratesMbps: number[];
  seconds: number;
  systems?: readonly FanoutSystem[];
  log?: (line: string) => void;
}

/**
 * For each bit rate and each system: one server, one real-time publish, then K stepped up through
 * `consumers` (ascending; consumers stay open from one step to the next) with a settle and a window each.
 */
export async function runFanout(o: FanoutOptions): Promise<FanoutRun> {
  const ks = [...o.consumers].sort((a, b) => a - b);
  const systems = o.systems ?? SYSTEMS;
  const log = o.log ?? ((l: string) => console.log(l));
  const tmp = makeTempDir('astral-fanout-');
  const bed = systems.includes('astral') ? await startRelayTestbed() : null;
  const cases = new Map<string, FanoutCase>();
  const rss: Record<string, Record<string, number>> = {};
  const what: Record<string, string> = {};
  let live: { target: FanoutTarget; consumers: ByteCounter[] } | null = null;
  try {
    for (const mbps of o.bitratesMbps) {
      const stream: StreamFixture = streamFixture(mbps);
      for (const system of systems) {
        const dir = join(tmp, `${system}-${mbps}`);
        const target =
          system === 'astral'
            ? await astralTarget(bed!, `fanout-${mbps}`, stream.file, 'forwards')
            : system === 'nodeMediaServer'
              ? await nmsTarget(dir, stream.file)
              : await nginxTarget(tmp, `nginx-${mbps}`, stream.file);
        what[system] = target.what;
        live = { target, consumers: [] };
        const points: { consumers: number; rssMb: number }[] = [];
        for (const k of ks) {
          live.consumers.push(...(await target.open(k - live.consumers.length)));
          await sleep(2000); // past the joins' GOP bursts
          const fig = fanoutFigures(await measureWindow(target, live.consumers, o.seconds, stream.kbps));
          fig.consumers = k; // asked for; `connected` says how many made it
          points.push({ consumers: k, rssMb: fig.rssMb });
          const key = `${k}@${mbps}`;
          const c = cases.get(key) ?? { consumers: k, bitrateMbps: mbps, streamKbps: stream.kbps, ratios: {} };
          c[system] = fig;
          cases.set(key, c);
          log(
            `fanout ${system} K=${k} ${mbps} Mbit/s: ${fig.egressMbps.toFixed(0)} Mbit/s at ${fig.cpuPercent.toFixed(0)} % CPU = ${fig.mbpsPerCore.toFixed(0)} Mbit/s per core, ${fig.connected} connected, delivered ${(100 * fig.deliveredOfExpected).toFixed(0)} %`,
          );
        }
        (rss[system] ??= {})[String(mbps)] = rssMbPer1000(points);
        for (const c of live.consumers) c.close();
        await target.stop();
        live = null;
      }
    }
  } finally {
    if (live) {
      for (const c of live.consumers) c.close();
      await live.target.stop().catch(() => undefined);
    }
    await bed?.stop();
    removeTempDir(tmp);
  }
  const results = [...cases.values()];
  for (const c of results) {
    const a = c.astral?.mbpsPerCore;
    if (a !== undefined && c.nodeMediaServer) c.ratios.astralOverNodeMediaServer = a / c.nodeMediaServer.mbpsPerCore;
    if (a !== undefined && c.nginxRtmp) c.ratios.astralOverNginx = a / c.nginxRtmp.mbpsPerCore;
  }
  return { results, rssMbPer1000Consumers: rss, what };
}
