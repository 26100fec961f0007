import Table from 'cli-table3';
import { FlvTagReader, ffprobe, makeTempDir, removeTempDir, sleep, waitFor } from '@astral/testing';
import { DepthPlayers, PlayerProtocol } from './lib/depth-players';
import { LatencyStats, frameLatencies, hopLatencies, latencyStats, perLevel } from './lib/player-latency';
import { TestRelay, startRelayTestbed } from './lib/relay-testbed';
import { parseFlags, percentile, report } from './lib/report';
import { NginxChainResult, runNginxChain } from './peers/nginx-chain';
import { nginxAvailable } from './peers/nginx-rtmp';

/**
 * `npm run bench -- chain --hops H [--seconds S] [--hls-seconds S2] [--no-hls] [--no-nginx] [--json FILE]`:
 * H+1 relays in a line (the first has the publish), so H relay-to-relay hops. All times on this process's
 * performance.now(); the publisher (FlvFilePublisher, in this process) reports when it wrote each video frame.
 *  - per hop, at the forward ports: every relay's forward port read (with a ticket of its own); a hop is the
 *    arrival-time difference of the same frame (by timestamp) at consecutive relays. The relay-to-relay
 *    path, which never goes through node-media-server (only the source's ingest does).
 *  - player latency at every depth (window 1, the same S seconds as the hops, same run): an RTMP player on
 *    each relay's RTMP port and an HTTP-FLV reader on /live/<id>.flv; a frame's latency is its arrival at
 *    the player minus the publisher's write. Then (window 2, S2 seconds, those players closed, so the
 *    segmenters' CPU is not in the hop figures) an LL-HLS client at every relay (bench/lib/depth-players.ts).
 *  - the nginx-rtmp chain of the same H in the same run (bench/peers/nginx-chain.ts), after Astral's relays
 *    are stopped: per hop and per depth over RTMP, measured the same way.
 * Added latency per level: the least-squares slope of the depth p50s (p95s) over depth 0..H.
 */
const PROTOCOLS: PlayerProtocol[] = ['rtmp', 'httpFlv', 'llHls'];

type DepthRow = { depth: number } & Partial<Record<PlayerProtocol, LatencyStats>>;

/** Publisher-to-player p50 / p95 (samples) per depth, Astral's protocols beside nginx-rtmp's RTMP. */
function depthTable(astral: DepthRow[], nginx: NginxChainResult | null): string {
  const cell = (s: LatencyStats | undefined): string =>
    s?.samples ? `${s.p50.toFixed(1)} / ${s.p95.toFixed(1)} (${s.samples})` : '—';
  const table = new Table({
    head: ['depth', 'Astral RTMP', 'Astral HTTP-FLV', 'Astral LL-HLS', 'nginx-rtmp RTMP'],
  });
  for (const row of astral)
    table.push([
      String(row.depth),
      cell(row.rtmp),
      cell(row.httpFlv),
      cell(row.llHls),
      cell(nginx?.playerLatencyMs.byDepth[row.depth]?.rtmp),
    ]);
  return `publisher → player latency, ms: p50 / p95 (samples)\n${table.toString()}`;
}

export async function chainBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const hops = Number(flags.get('hops') ?? 5);
  const seconds = Number(flags.get('seconds') ?? 20);
  const hlsSeconds = Number(flags.get('hls-seconds') ?? Math.min(seconds, 10));
  const withHls = !flags.has('no-hls');
  const nginxMissing = flags.has('no-nginx') ? 'skipped (--no-nginx)' : nginxAvailable();
  const bed = await startRelayTestbed();
  const readers: FlvTagReader[] = [];
  const depth: DepthPlayers[] = [];
  const tmp = makeTempDir('astral-chain-nginx-');
  let bedStopped = false;
  // Astral's relays are stopped before the nginx chain runs, so the two never share the CPU.
  const stopBed = async (): Promise<void> => {
    if (bedStopped) return;
    bedStopped = true;
    await bed.stop();
  };
  try {
    const relays: TestRelay[] = [];
    for (let i = 0; i <= hops; i++) relays.push(await bed.startRelay(`hop${i}`, { logLevel: 'warn' }));
    const streamId = 'bench-chain';
    const published = new Map<number, number>();
    await bed.publish(relays[0], streamId, (ts) => published.set(ts, performance.now()));
    for (let i = 1; i <= hops; i++) {
      await relays[i - 1].waitForTagsIn(streamId, 10, {
        timeoutMs: 15_000,
        what: `the stream at hop ${i - 1}`,
      });
      await bed.pull(relays[i], relays[i - 1], streamId);
    }
    for (const [i, r] of relays.entries()) {
      const forward = await r.admit(streamId);
      const reader = await waitFor(
        () => FlvTagReader.open(forward.url, undefined, forward.headers()).catch(() => null),
        {
          timeoutMs: 15_000,
          what: `hop ${i}'s forward port`,
        },
      );
      reader.videoFrames.length = 0;
      readers.push(reader);
      depth.push(new DepthPlayers(r, streamId));
    }
    for (const d of depth) await d.openFlvAndRtmp();
    await Promise.all(readers.map((r) => r.waitForFrames(25, 15_000)));
    await Promise.all(depth.map((d) => d.waitForFrames(25)));
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const t1 = performance.now();
    await sleep(1000);
    for (const d of depth) d.closeFlvAndRtmp();
    const arrivals = readers.map((r) => r.videoFrames);
    let h0 = 0;
    let h1 = 0;
    const hlsProblems: string[] = [];
    if (withHls) {
      // A relay whose LL-HLS does not start shows as a depth without samples, not as a failed bench.
      for (const d of depth)
        await d.openLlHls().catch((err: Error) => hlsProblems.push(`${d.relay.name}: ${err.message}`));
      await sleep(2000); // past the first parts, requested at the live edge as the client joins
      h0 = performance.now();
      await sleep(hlsSeconds * 1000);
      h1 = performance.now();
      await sleep(2000); // the parts holding the window's last frames are complete a part duration later
      for (const d of depth) {
        await d.close();
        hlsProblems.push(...d.hlsProblems.slice(0, 3).map((p) => `${d.relay.name}: ${p}`));
      }
    }

    const perHop: number[] = [];
    const byHop: { hop: number; p50: number; p95: number }[] = [];
    for (let i = 1; i <= hops; i++) {
      const d = hopLatencies(published, arrivals[i - 1], arrivals[i], t0, t1);
      perHop.push(...d);
      byHop.push({ hop: i, p50: percentile(d, 50), p95: percentile(d, 95) });
    }
    perHop.sort((a, b) => a - b);
    const ingest = frameLatencies(published, arrivals[0], t0, t1);
    const byDepth = depth.map((d, i) => {
      const row: Partial<Record<PlayerProtocol, LatencyStats>> = {};
      for (const p of PROTOCOLS) {
        if (p === 'llHls' && !withHls) continue;
        const [from, to] = p === 'llHls' ? [h0, h1] : [t0, t1];
        row[p] = latencyStats(frameLatencies(published, d.arrivals[p], from, to));
      }
      return { depth: i, ...row };
    });
    const slopes = Object.fromEntries(
      PROTOCOLS.filter((p) => p !== 'llHls' || withHls).map((p) => [p, perLevel(byDepth, p)]),
    ) as Record<PlayerProtocol, { p50: number; p95: number }>;
    const window = [...published.values()].filter((at) => at >= t0 && at < t1).length;
    const tail = relays[hops];
    let decodable = false;
    let probe = '';
    try {
      const p = await ffprobe(tail.httpFlvUrl(streamId), { readSeconds: 3, timeoutMs: 30_000 });
      const v = p.streams.find((s) => s.codec_type === 'video');
      const a = p.streams.find((s) => s.codec_type === 'audio');
      decodable = v?.codec_name === 'h264' && a?.codec_name === 'aac' && v.nb_read_frames > 25;
      probe = JSON.stringify(p.streams);
    } catch (err) {
      probe = (err as Error).message;
    }
    for (const r of readers.splice(0)) r.close();
    await stopBed();

    let nginxFailure = nginxMissing;
    const nginx: NginxChainResult | null = nginxMissing
      ? null
      : await runNginxChain({ tmp, hops, seconds }).catch((err: Error) => {
          nginxFailure = `failed: ${err.message.slice(0, 2000)}`;
          return null;
        });
    const perHopLatencyMs = {
      p50: percentile(perHop, 50),
      p95: percentile(perHop, 95),
      max: perHop[perHop.length - 1],
    };
    // The headline per level: the worse of the two streaming player paths (RTMP, HTTP-FLV).
    const p50PerLevel = Math.max(slopes.rtmp.p50, slopes.httpFlv.p50);
    const p95PerLevel = Math.max(slopes.rtmp.p95, slopes.httpFlv.p95);
    console.log(depthTable(byDepth, nginx));
    report(
      `chain H=${hops}`,
      {
        hops,
        relays: hops + 1,
        seconds,
        measuredAt: 'forward ports (relay-to-relay path)',
        perHopLatencyMs,
        endToEndMs: { p50: percentile(ingest, 50) + percentile(perHop, 50) * hops },
        ingestToFirstRelayMs: {
          p50: percentile(ingest, 50),
          p95: percentile(ingest, 95),
          what: 'publisher write → source relay forward port (through node-media-server)',
        },
        hopsDetail: Object.fromEntries(
          byHop.map((h) => [`hop${h.hop}`, `p50 ${h.p50.toFixed(2)} / p95 ${h.p95.toFixed(2)}`]),
        ),
        playerLatencyMs: {
          what: 'publisher write → video frame at a player of the relay at each depth (0 = source relay)',
          perLevelMethod:
            'least-squares slope of the depth p50s (p95s) over depth 0..H; p50PerLevel/p95PerLevel: the larger of rtmp and httpFlv',
          p50PerLevel,
          p95PerLevel,
          perLevelByProtocol: slopes,
          ...(withHls && {
            llHlsWhat: `LL-HLS over a separate ${hlsSeconds} s window: part arrival (client blocking on hints) − write, for every frame in the part`,
          }),
          byDepth,
        },
        nginxRtmp: nginx
          ? {
              perHopLatencyMs: nginx.perHopLatencyMs,
              hopsDetail: nginx.hopsDetail,
              playerLatencyMs: nginx.playerLatencyMs,
              framesAtTail: nginx.framesAtTail,
              how: 'push chain, RTMP publisher and players in this process (bench/peers/nginx-chain.ts)',
            }
          : { skipped: nginxFailure },
        ...(nginx && {
          /** Lower is better: < 1 means Astral adds less per hop than nginx-rtmp in this run. */
          astralOverNginxP50: perHopLatencyMs.p50 / nginx.perHopLatencyMs.p50,
          astralOverNginxP95: perHopLatencyMs.p95 / nginx.perHopLatencyMs.p95,
          /** The goal: Astral's added player latency per level ≤ nginx-rtmp's per-hop p95. */
          playerP95PerLevelOverNginxPerHopP95: p95PerLevel / nginx.perHopLatencyMs.p95,
        }),
        framesPublished: window,
        framesReceivedAtTail: hopLatencies(published, arrivals[hops], arrivals[hops], t0, t1).length,
        ...(hlsProblems.length && { hlsProblems }),
        decodable,
        tailProbe: probe,
      },
      flags.get('json'),
    );
  } finally {
    for (const r of readers) r.close();
    await Promise.all(depth.map((d) => d.close().catch(() => undefined)));
    await stopBed();
    removeTempDir(tmp);
  }
}
