/**
 * `npm run bench -- peers --consumers K --hops H --viewers N [--seconds S] [--json FILE] [--svg FILE]
 *    [--astral-fanout FILE] [--astral-chain FILE] [--astral-tree FILE]`
 *
 * Astral side by side with nginx + the RTMP module (Debian nginx 1.22 + libnginx-mod-rtmp 1.2.2) and
 * node-media-server alone, on the same machine, with the same input (fixtures/sample.flv in real time):
 *  - chain: H+1 nginx relays, each `push`ing to the next (bench/peers/nginx-chain.ts: an RTMP publisher and
 *    an RTMP player per relay in this process; a hop's latency is the arrival-time difference of the same
 *    video frame at consecutive relays, on this process's clock). chainBench runs it in the same run as
 *    Astral's chain and puts it in its JSON (`nginxRtmp`); it is run here only when that JSON lacks it.
 *  - fan-out: fanoutBench at K and 1 Mbit/s (bench/fanout/run.ts, the one fan-out implementation): Astral's
 *    forwards, node-media-server alone and nginx-rtmp with K minimal RTMP players, each server's own CPU.
 *  - source egress with N nodes (N−1 viewers): a hand-written nginx origin/edge binary tree (each relay
 *    pushes to at most 2 others, like Astral's upload limit of 2 streams) and one nginx serving all N−1
 *    viewers; egress = the origin's bytes_out (rtmp_stat). Astral: treeBench
 *    (--upload-limit-streams 2), which builds its tree itself.
 * Astral's figures come from the given JSON files, or from running its benches here first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ManagedProcess,
  makeTempDir,
  removeTempDir,
  sampleFlvPath,
  sleep,
  spawnFfmpegLoopPublisher,
} from '@astral/testing';
import { chainBench } from './chain';
import { fanoutBench } from './fanout';
import { treeBench } from './overlay';
import { CaseResult } from './fanout/figures';
import { parseFlags, report } from './lib/report';
import { NginxChainResult, runNginxChain } from './peers/nginx-chain';
import { NginxRtmp, nginxAvailable, startNginxRtmp } from './peers/nginx-rtmp';
import { RtmpPlayer } from './peers/rtmp-player';
import { groupedBarSvg, writeSvgFile } from './peers/svg';

type Json = Record<string, unknown>;

/** Reads an Astral bench's JSON from `file`, or runs it with `--json` into the temp dir and reads that. */
async function astralResult(
  file: string | undefined,
  run: (a: string[]) => Promise<void>,
  args: string[],
  tmp: string,
  name: string,
): Promise<Json> {
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Json;
  if (file) console.log(`peers: ${file} is missing; running Astral's ${name} bench here`);
  const out = join(tmp, `${name}.json`);
  await run([...args, '--json', out]);
  return JSON.parse(readFileSync(out, 'utf8')) as Json;
}

/** A hopsDetail entry (`p50 0.12 / p95 0.80`) back into numbers. */
const parseHop = (s: string): { p50: number; p95: number } => {
  const m = /p50 ([\d.]+) \/ p95 ([\d.]+)/.exec(s);
  return m ? { p50: Number(m[1]), p95: Number(m[2]) } : { p50: NaN, p95: NaN };
};

async function openPlayers(urls: string[]): Promise<RtmpPlayer[]> {
  const players: RtmpPlayer[] = [];
  for (let i = 0; i < urls.length; i += 50) {
    const opened = await Promise.allSettled(urls.slice(i, i + 50).map((u) => RtmpPlayer.open(u, 20_000)));
    for (const o of opened) if (o.status === 'fulfilled') players.push(o.value);
  }
  return players;
}

/** The fan-out bench's case at `k` consumers and about 1 Mbit/s (the rate of the other sections' sample). */
function fanoutCase(fan: Json, k: number): CaseResult {
  const cases = (fan.results ?? []) as CaseResult[];
  const c =
    cases.find((r) => r.consumers === k && r.bitrateMbps === 1) ?? cases.find((r) => r.consumers === k);
  if (!c) throw new Error(`the fan-out JSON has no case at K=${k} (a file from before bench/fanout/run.ts?)`);
  return c;
}

const sampleKbps = (): number => {
  const size = readFileSync(sampleFlvPath()).length;
  return (size * 8) / 12.08 / 1000; // fixtures/sample.flv is 12.08 s long
};

export async function peersBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const k = Number(flags.get('consumers') ?? 10);
  const hops = Number(flags.get('hops') ?? 5);
  const n = Number(flags.get('viewers') ?? 10);
  const seconds = Number(flags.get('seconds') ?? 10);
  const chainSeconds = Number(flags.get('chain-seconds') ?? 20);
  const svgFile = flags.get('svg') ?? 'docs/bench/per-hop-latency.svg';
  const missing = nginxAvailable();
  if (missing) throw new Error(missing);
  const tmp = makeTempDir('astral-peers-');
  const nginxes: NginxRtmp[] = [];
  const publishers: ManagedProcess[] = [];
  const players: RtmpPlayer[] = [];
  const stopAll = async (): Promise<void> => {
    for (const p of players.splice(0)) p.close();
    await Promise.all(publishers.splice(0).map((p) => p.stop('SIGTERM', 3000)));
    await Promise.all(nginxes.splice(0).map((x) => x.stop()));
  };
  const publish = async (to: NginxRtmp, stream: string): Promise<void> => {
    publishers.push(
      spawnFfmpegLoopPublisher(
        'ffmpeg-publish',
        sampleFlvPath(),
        to.rtmpUrl(stream),
        join(tmp, `publish-${to.name}.log`),
      ),
    );
    await sleep(1500);
  };
  try {
    // ---- Astral (and node-media-server alone) ----
    const aChain = await astralResult(
      flags.get('astral-chain'),
      chainBench,
      ['--hops', String(hops), '--seconds', String(chainSeconds)],
      tmp,
      'chain',
    );
    const aFan = await astralResult(
      flags.get('astral-fanout'),
      fanoutBench,
      ['--consumers', String(k), '--bitrates', '1', '--seconds', String(seconds)],
      tmp,
      'fanout',
    );
    const aTree = await astralResult(
      flags.get('astral-tree'),
      treeBench,
      ['--nodes', String(n), '--upload-limit-streams', '2'],
      tmp,
      'tree',
    );

    // ---- nginx chain: H+1 relays, each pushing to the next (bench/peers/nginx-chain.ts) ----
    // chainBench runs it in its own run already; an older chain JSON without it gets a run here.
    const nChain =
      (aChain.nginxRtmp as NginxChainResult | undefined)?.perHopLatencyMs !== undefined
        ? (aChain.nginxRtmp as NginxChainResult)
        : await runNginxChain({ tmp, hops, seconds: chainSeconds });
    const nginxHops = Object.values(nChain.hopsDetail).map(parseHop);

    // ---- source egress: hand-configured nginx binary tree of N relays, and one nginx for all N−1 viewers ----
    const treeNodes: NginxRtmp[] = new Array<NginxRtmp>(n);
    for (let i = n - 1; i >= 0; i--) {
      const children = [2 * i + 1, 2 * i + 2].filter((c2) => c2 < n).map((c2) => treeNodes[c2].port);
      treeNodes[i] = await startNginxRtmp(tmp, `tree${i}`, children);
      nginxes.push(treeNodes[i]);
    }
    await publish(treeNodes[0], 'tree');
    players.push(...(await openPlayers(treeNodes.slice(1).map((x) => x.rtmpUrl('tree')))));
    await sleep(2000);
    const egress = async (
      x: NginxRtmp,
      ps: RtmpPlayer[],
    ): Promise<{ kbps: number; deliveredKbpsPerViewer: number }> => {
      const w0 = await x.bytesOut();
      const p0 = ps.reduce((s, p) => s + p.bytes, 0);
      const ta = performance.now();
      await sleep(seconds * 1000);
      const dt = (performance.now() - ta) / 1000;
      return {
        kbps: (((await x.bytesOut()) - w0) * 8) / dt / 1000,
        deliveredKbpsPerViewer:
          ((ps.reduce((s, p) => s + p.bytes, 0) - p0) * 8) / dt / 1000 / Math.max(1, ps.length),
      };
    };
    const treeEgress = await egress(treeNodes[0], players);
    const treeViewers = players.length;
    await stopAll();
    const single = await startNginxRtmp(tmp, 'single');
    nginxes.push(single);
    await publish(single, 'single');
    players.push(...(await openPlayers(Array.from({ length: n - 1 }, () => single.rtmpUrl('single')))));
    await sleep(2000);
    const singleEgress = await egress(single, players);
    const singleViewers = players.length;
    await stopAll();

    // ---- the comparison ----
    const aPerHop = aChain.perHopLatencyMs as { p50: number; p95: number };
    const aHops = Object.values((aChain.hopsDetail ?? {}) as Record<string, string>).map(parseHop);
    const fanCase = fanoutCase(aFan, k);
    const aSourceKbps = Number(aTree.sourceEgressKbps);
    const result = {
      input: `fixtures/sample.flv in real time (~${Math.round(sampleKbps())} kbit/s), looped`,
      consumers: k,
      hops,
      viewers: n - 1,
      nodes: n,
      chain: {
        astral: {
          perHopP50Ms: aPerHop.p50,
          perHopP95Ms: aPerHop.p95,
          how: 'forward ports read over HTTP (chainBench)',
        },
        nginxRtmp: {
          perHopP50Ms: nChain.perHopLatencyMs.p50,
          perHopP95Ms: nChain.perHopLatencyMs.p95,
          framesAtTail: nChain.framesAtTail,
          how: 'push chain; RTMP publisher and an RTMP player per relay in this process (bench/peers/nginx-chain.ts)',
          hopsDetail: nChain.hopsDetail,
          playerLatencyMs: nChain.playerLatencyMs,
        },
        /** Lower is better: Astral ÷ nginx < 1 means Astral adds less per hop. */
        astralOverNginxP50: aPerHop.p50 / nChain.perHopLatencyMs.p50,
        astralOverNginxP95: aPerHop.p95 / nChain.perHopLatencyMs.p95,
      },
      fanout: {
        input: `a generated ${fanCase.inputMbps.toFixed(2)} Mbit/s FLV in real time (bench/lib/flv-fixture.ts)`,
        astral: {
          mbpsPerCore: fanCase.astral.mbpsPerCore,
          egressMbps: fanCase.astral.egressMbps,
          cpuPercent: fanCase.astral.cpuPercent,
        },
        nodeMediaServer: {
          mbpsPerCore: fanCase.nodeMediaServer.mbpsPerCore,
          egressMbps: fanCase.nodeMediaServer.egressMbps,
          cpuPercent: fanCase.nodeMediaServer.cpuPercent,
        },
        nginxRtmp: {
          mbpsPerCore: fanCase.nginxRtmp.mbpsPerCore,
          egressMbps: fanCase.nginxRtmp.egressMbps,
          workerCpuPercent: fanCase.nginxRtmp.cpuPercent,
          playersConnected: fanCase.consumers - fanCase.nginxRtmp.shortConsumers,
          players: 'raw RTMP byte counters',
        },
        /** Higher is better. */
        astralOverNginx: fanCase.astralOverNginx,
        astralOverNodeMediaServer: fanCase.astralOverNodeMediaServer,
      },
      sourceEgress: {
        astral: { kbps: aSourceKbps, how: 'tree built by Astral itself (upload limit 2 streams per node)' },
        nginxRtmpTree: {
          kbps: treeEgress.kbps,
          viewers: treeViewers,
          deliveredKbpsPerViewer: treeEgress.deliveredKbpsPerViewer,
          how: 'binary origin/edge push tree written by hand, one nginx.conf per relay',
        },
        nginxRtmpSingle: {
          kbps: singleEgress.kbps,
          viewers: singleViewers,
          deliveredKbpsPerViewer: singleEgress.deliveredKbpsPerViewer,
          how: 'one nginx serving every viewer',
        },
        /** Lower is better. */
        astralOverNginxTree: aSourceKbps / treeEgress.kbps,
        astralOverNginxSingle: aSourceKbps / singleEgress.kbps,
      },
    };
    const cats = Array.from({ length: hops }, (_, i) => `hop ${i + 1}`);
    writeSvgFile(
      svgFile,
      groupedBarSvg(`Per-hop latency, chain of ${hops} hops (p50 / p95)`, 'ms', cats, [
        { name: 'Astral p50', color: '#1f77b4', values: aHops.map((h) => h.p50) },
        { name: 'Astral p95', color: '#aec7e8', values: aHops.map((h) => h.p95) },
        { name: 'nginx-rtmp p50', color: '#d62728', values: nginxHops.map((h) => h.p50) },
        { name: 'nginx-rtmp p95', color: '#ff9896', values: nginxHops.map((h) => h.p95) },
      ]),
    );
    report(`peers K=${k} H=${hops} N=${n}`, result, flags.get('json'));
  } finally {
    await stopAll();
    removeTempDir(tmp);
  }
}
