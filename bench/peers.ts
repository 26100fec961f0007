/**
 * `npm run bench -- peers --consumers K --hops H --viewers N [--seconds S] [--json FILE] [--svg FILE]
 *    [--astral-fanout FILE] [--astral-chain FILE] [--astral-tree FILE]`
 *
 * Astral side by side with nginx + the RTMP module (Debian nginx 1.22 + libnginx-mod-rtmp 1.2.2) and
 * node-media-server alone, on the same machine, with the same input (fixtures/sample.flv in real time):
 *  - chain: H+1 nginx relays, each `push`ing to the next; the sample published to the first with
 *    `ffmpeg -re -stream_loop -1 -c copy`; every relay read by `ffmpeg -i rtmp://… -c copy -f flv -` piped
 *    into FlvParser here; a hop's latency is the arrival-time difference of the same video frame
 *    (matched by payload hash) at consecutive relays, on this process's clock. Astral: chainBench.
 *  - fan-out: fanoutBench at K and 1 Mbit/s (bench/fanout/run.ts, the one fan-out implementation): Astral's
 *    forwards, node-media-server alone and nginx-rtmp with K minimal RTMP players, each server's own CPU.
 *  - source egress with N nodes (N−1 viewers): a hand-written nginx origin/edge binary tree (each relay
 *    pushes to at most 2 others, like Astral's upload limit of 2 streams) and one nginx serving all N−1
 *    viewers; egress = the origin's bytes_out (rtmp_stat). Astral: treeBench
 *    (--upload-limit-streams 2), which builds its tree itself.
 * Astral's figures come from the given JSON files, or from running its benches here first.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlvParser, FlvTagType } from '@astral/media';
import {
  ManagedProcess,
  makeTempDir,
  removeTempDir,
  sampleFlvPath,
  sleep,
  spawnFfmpegLoopPublisher,
  waitFor,
} from '@astral/testing';
import { chainBench } from './chain';
import { fanoutBench } from './fanout';
import { treeBench } from './overlay';
import { CaseResult } from './fanout/figures';
import { parseFlags, percentile, report } from './lib/report';
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

/** An RTMP reader: ffmpeg remuxes to FLV on stdout, parsed here; records each video frame's arrival by payload hash. */
class FfmpegFlvReader {
  readonly arrivals = new Map<string, number[]>();
  frames = 0;
  restarts = 0;
  lastError = '';
  private child: ChildProcess | null = null;
  private closed = false;

  constructor(private readonly url: string) {
    this.spawn();
  }

  /** ffmpeg may give up on a stream it joined mid-GOP (nginx-rtmp has no GOP cache): start it again. */
  private spawn(): void {
    const args = ['-hide_banner', '-loglevel', 'error', '-fflags', 'nobuffer', '-i', this.url];
    args.push('-c', 'copy', '-flush_packets', '1', '-f', 'flv', '-');
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const parser = new FlvParser();
    child.stderr.on('data', (d: Buffer) => (this.lastError = (this.lastError + d.toString()).slice(-500)));
    child.stdout.on('data', (chunk: Buffer) => {
      const now = performance.now();
      for (const tag of parser.push(chunk)) {
        // AVC NALU packets only (byte 1 == 1): skip sequence headers, which repeat with the same bytes.
        if (tag.type !== FlvTagType.Video || tag.data.length < 6 || tag.data[1] !== 1) continue;
        const key = createHash('sha1').update(tag.data.subarray(5)).digest('base64');
        const list = this.arrivals.get(key);
        if (list) list.push(now);
        else this.arrivals.set(key, [now]);
        this.frames++;
      }
    });
    child.once('exit', () => {
      if (this.closed) return;
      this.restarts++;
      setTimeout(() => !this.closed && this.spawn(), 200);
    });
  }

  close(): void {
    this.closed = true;
    if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Nearest arrival of the same frame at `b` to `at` (within 5 s, so a loop of the sample never matches). */
function nearest(list: number[] | undefined, at: number): number | null {
  if (!list) return null;
  let best: number | null = null;
  for (const t of list)
    if (Math.abs(t - at) < 5000 && (best === null || Math.abs(t - at) < Math.abs(best - at))) best = t;
  return best;
}

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
  const readers: FfmpegFlvReader[] = [];
  const players: RtmpPlayer[] = [];
  const stopAll = async (): Promise<void> => {
    for (const r of readers.splice(0)) r.close();
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

    // ---- nginx chain: H+1 relays, each pushing to the next ----
    for (let i = hops; i >= 0; i--)
      nginxes.unshift(await startNginxRtmp(tmp, `chain${i}`, nginxes.length ? [nginxes[0].port] : []));
    await publish(nginxes[0], 'chain');
    for (const x of nginxes) readers.push(new FfmpegFlvReader(x.rtmpUrl('chain')));
    await waitFor(() => readers.every((r) => r.frames > 25), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'frames at every nginx hop',
    }).catch((err: Error) => {
      const logs = nginxes.map(
        (x) =>
          `${x.name}: ${readers[nginxes.indexOf(x)].frames} frames, ${readers[nginxes.indexOf(x)].restarts} reader restarts (${readers[nginxes.indexOf(x)].lastError}); ${x.errorLog().slice(-600)}`,
      );
      throw new Error(`${err.message}\n${logs.join('\n')}`);
    });
    const t0 = performance.now();
    await sleep(chainSeconds * 1000);
    const t1 = performance.now();
    await sleep(1000);
    const perHop: number[] = [];
    const nginxHops: { p50: number; p95: number }[] = [];
    for (let i = 1; i <= hops; i++) {
      const d: number[] = [];
      for (const [key, list] of readers[i - 1].arrivals)
        for (const at of list) {
          if (at < t0 || at >= t1) continue;
          const next = nearest(readers[i].arrivals.get(key), at);
          if (next !== null) d.push(next - at);
        }
      d.sort((a, b) => a - b);
      perHop.push(...d);
      nginxHops.push({ p50: percentile(d, 50), p95: percentile(d, 95) });
    }
    perHop.sort((a, b) => a - b);
    const framesAtTail = [...readers[hops].arrivals.values()].flat().filter((t) => t >= t0 && t < t1).length;
    await stopAll();

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
    const aHops = Object.values((aChain.hopsDetail ?? {}) as Record<string, string>).map((s) => {
      const m = /p50 ([\d.]+) \/ p95 ([\d.]+)/.exec(s);
      return m ? { p50: Number(m[1]), p95: Number(m[2]) } : { p50: NaN, p95: NaN };
    });
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
          perHopP50Ms: percentile(perHop, 50),
          perHopP95Ms: percentile(perHop, 95),
          framesAtTail,
          how: 'push chain; each hop read by ffmpeg -c copy → FlvParser',
          hopsDetail: Object.fromEntries(
            nginxHops.map((h, i) => [`hop${i + 1}`, `p50 ${h.p50.toFixed(2)} / p95 ${h.p95.toFixed(2)}`]),
          ),
        },
        /** Lower is better: Astral ÷ nginx < 1 means Astral adds less per hop. */
        astralOverNginxP50: aPerHop.p50 / percentile(perHop, 50),
        astralOverNginxP95: aPerHop.p95 / percentile(perHop, 95),
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
