import { makeTempDir, removeTempDir, sleep } from '@astral/testing';
import { PlayerPool } from '../lib/player-pool';
import { cpuSeconds, rssMbSync } from '../lib/proc-sampler';
import { testFlv } from '../lib/flv-fixture';
import { startRelayTestbed } from '../lib/relay-testbed';
import { nginxAvailable } from '../peers/nginx-rtmp';
import { CaseResult, PhaseFigures, ServerName, caseResult, phaseFigures } from './figures';
import { ServerUnderTest, astralServer, nginxServer, nodeMediaServer } from './servers';

export interface FanoutOptions {
  consumers: number[];
  bitratesMbps: number[];
  seconds: number;
  /** Client processes the consumers are spread over. */
  clientProcesses: number;
  log?: (line: string) => void;
}

/** Opens `k` consumers of `server`, lets the joins' GOP bursts pass, and measures a window of `seconds`. */
async function measure(
  server: ServerUnderTest,
  pool: PlayerPool,
  k: number,
  seconds: number,
  expectedBytesPerSecond: number,
): Promise<PhaseFigures> {
  const opened = await pool.open(await server.targets(k));
  await sleep(2000);
  const s0 = await pool.snapshot();
  const c0 = server.counters ? await server.counters() : null;
  const cpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  let rss = rssMbSync(server.pid);
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(500);
    rss = Math.max(rss, rssMbSync(server.pid));
  }
  const cpu = cpuSeconds(server.pid) - cpu0;
  const window = (performance.now() - t0) / 1000;
  const s1 = await pool.snapshot();
  const c1 = server.counters ? await server.counters() : null;
  await pool.closePlayers();
  await sleep(500);
  const f = phaseFigures({
    consumers: k,
    bytes: s1.bytes.map((b, i) => b - (s0.bytes[i] ?? 0)),
    ended: s1.ended,
    seconds: window,
    cpuSeconds: cpu,
    rssMb: rss,
    expectedBytes: expectedBytesPerSecond * window,
    clientCpuSeconds: s1.cpuSeconds - s0.cpuSeconds,
    ...(c0 &&
      c1 && {
        droppedTags: c1.droppedTags - c0.droppedTags,
        tagsOffered: (c1.tagsIn - c0.tagsIn) * opened.opened,
      }),
  });
  return opened.failed ? { ...f, openFailures: opened.failed, openError: opened.error } : f;
}

/**
 * Every (K, bit rate) case on Astral's forwards, node-media-server alone and nginx-rtmp, in one run: per bit
 * rate, the three servers are started once, each fed the same generated FLV in real time, and measured one
 * after another at each K with the same client pool (the others idle, publishing only).
 */
export async function runFanout(o: FanoutOptions): Promise<CaseResult[]> {
  const missing = nginxAvailable();
  if (missing) throw new Error(missing);
  const log = o.log ?? ((line: string) => console.log(line));
  const inputs = o.bitratesMbps.map((m) => testFlv(Math.round(m * 1000)));
  const tmp = makeTempDir('astral-fanout-');
  const bed = await startRelayTestbed();
  const pool = new PlayerPool(o.clientProcesses);
  const servers: ServerUnderTest[] = [];
  const results: CaseResult[] = [];
  try {
    for (const [bi, input] of inputs.entries()) {
      const tag = `${input.kbps}k`;
      servers.push(
        await astralServer(bed, `fanout-${tag}`, input.file),
        await nodeMediaServer(tmp, `nms-${tag}`, input.file),
        await nginxServer(tmp, `nginx-${tag}`, input.file),
      );
      for (const k of o.consumers) {
        const by = {} as Record<ServerName, PhaseFigures>;
        for (const server of servers) {
          by[server.name] = await measure(server, pool, k, o.seconds, (input.measuredKbps * 1000) / 8);
          log(
            `fanout: ${input.kbps} kbit/s K=${k} ${server.name}: ${by[server.name].mbpsPerCore.toFixed(0)} Mbit/s per core, ` +
              `${by[server.name].cpuPercent.toFixed(1)} % CPU, delivered min ${by[server.name].deliveredMin.toFixed(3)}`,
          );
        }
        results.push(caseResult(k, o.bitratesMbps[bi], input.measuredKbps / 1000, by));
      }
      await Promise.all(servers.splice(0).map((s) => s.stop()));
    }
    return results;
  } finally {
    pool.stop();
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
    await bed.stop();
    removeTempDir(tmp);
  }
}
