import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { hlsPlaylistPath, llHlsPlaylistPath } from '@astral/contracts';
import {
  ManagedProcess,
  makeTempDir,
  removeTempDir,
  sampleFlvPath,
  sleep,
  spawnFfmpegLoopPublisher,
  waitFor,
} from '@astral/testing';
import { startFfmpegHlsPeer, FfmpegHlsPeer } from './lib/ffmpeg-hls-peer';
import { HlsArrival, HlsClient, HlsClientMode, HlsClientOptions } from './lib/hls-client';
import { HlsProbe, firstVideoDtsMs, probeHlsMedia } from './lib/hls-probe';
import { SourceClock } from './lib/source-clock';
import { HlsPlayerRun, HlsPlayers } from './lib/hls-player';
import { CpuWindow } from './lib/proc-sampler';
import { RelayTestbed, TestRelay, sha256Hex, startRelayTestbed } from './lib/relay-testbed';
import { parseFlags, percentile, report } from './lib/report';

/**
 * `npm run bench -- hls --hops H --players P [--seconds S] [--json FILE]`: HLS and LL-HLS from Astral relays.
 *
 * ffmpeg publishes fixtures/sample.flv (H.264 + AAC, 1 s GOP) in real time, looped, over RTMP into relay 0;
 * relays 1..H pull it in a chain. bench/lib/hls-client.ts (a player that fetches but does not decode)
 * measures availability latency (arrival − PDT + part offset; see there) of LL-HLS parts and plain-HLS
 * segments at depth 0 and depth H, one client each, over S seconds. Also:
 *  - segmentCpuPercent: the depth-H relay's CPU (percent of one core) with one LL-HLS client minus with none
 *    (segmenting starts on demand, so "none" is a relay only relaying);
 *  - cpuPer100PlayersPercent: P more LL-HLS clients on the depth-H relay, the CPU they add, scaled to 100;
 *  - decodable: ffprobe of init + two media segments from the depth-H relay (h264 + aac, monotonic dts,
 *    each segment starting on a keyframe);
 *  - ffmpegPeer: ffmpeg's HLS muxer fed relay 0's HTTP-FLV (bench/lib/ffmpeg-hls-peer.ts), measured by the
 *    same client in the same run (plain HLS: ffmpeg has no LL-HLS), and ffmpeg's own CPU.
 *
 * Then latency at the player (bench/lib/hls-player.ts): hls.js in Chromium plays LL-HLS and plain HLS at depth
 * H, LL-HLS at depth 0 and ffmpeg's playlist, all at once; `llhls.latencyMs` and `hls.latencyMs` are those
 * (publisher-to-player, dated by the source clock's PDT). For ffmpeg's muxer, whose PDT is its own join time,
 * the player's figure is its segments' availability (dated by the source clock) plus hls.js's distance behind
 * the live edge: the two halves added at p50 and at p95.
 */

type Stats = { p50: number; p95: number; max: number; samples: number };

const stats = (values: number[]): Stats => {
  const v = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(v, 50),
    p95: percentile(v, 95),
    max: v.length ? v[v.length - 1] : NaN,
    samples: v.length,
  };
};

/** Latencies of a client's arrivals within [from, to) (Date.now() clock). */
const windowed = (c: HlsClient | null, from: number, to: number): number[] =>
  (c?.arrivals ?? [])
    .filter((a) => a.arrivalMs >= from && a.arrivalMs < to && a.latencyMs !== null)
    .map((a) => a.latencyMs!);

/** Starts a client and waits for its first media; on failure records why and returns null (the run goes on). */
async function started(client: HlsClient, what: string, failures: string[]): Promise<HlsClient | null> {
  try {
    await client.start();
    await waitFor(() => client.arrivals.length > 0, { timeoutMs: 20_000, what: `${what} to receive media` });
    return client;
  } catch (err) {
    failures.push(`${what}: ${(err as Error).message}`);
    await client.stop();
    return null;
  }
}

/**
 * Latencies of ffmpeg's segments dated by the source clock: each segment's first video dts (-copyts: the FLV
 * timestamp) → the source's wall clock there. Only segments whose first dts is near a keyframe the clock
 * reader saw count (the two timelines agree); `anchored` says how many.
 */
async function anchoredLatencies(
  bodies: { init: Buffer | null; segments: { arrival: HlsArrival; body: Buffer }[] },
  clock: SourceClock,
  dir: string,
): Promise<{ latencies: number[]; anchored: number; of: number }> {
  const latencies: number[] = [];
  if (!bodies.init) return { latencies, anchored: 0, of: bodies.segments.length };
  for (const [i, s] of bodies.segments.entries()) {
    const dts = await firstVideoDtsMs(bodies.init, s.body, join(dir, `peer-${i}.mp4`)).catch(() => null);
    const keyframe = dts === null ? null : clock.keyframeNear(dts);
    const wall = keyframe === null ? null : clock.wallClockAt(keyframe);
    if (wall !== null) latencies.push(s.arrival.arrivalMs - wall);
  }
  return { latencies, anchored: latencies.length, of: bodies.segments.length };
}

/** A player run's figures: publisher-to-player (PDT-dated), behind the live edge, and the video it played. */
const playerFigures = (run: HlsPlayerRun | null) =>
  run && {
    latencyMs: stats(run.samples.map((x) => x.dateLatencyMs).filter((x): x is number => x !== null)),
    behindLiveEdgeMs: stats(run.samples.map((x) => x.liveEdgeMs)),
    playedS: Math.round(run.playedS * 100) / 100,
    sampledS: run.samples.length / 2,
    errors: run.errors,
  };

const probeOrReason = async (
  url: string,
  dir: string,
): Promise<HlsProbe | { decodable: false; error: string }> =>
  probeHlsMedia(url, dir).catch((err: Error) => ({ decodable: false as const, error: err.message }));

export async function hlsBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const hops = Number(flags.get('hops') ?? 2);
  const players = Number(flags.get('players') ?? 20);
  const seconds = Number(flags.get('seconds') ?? 30);
  const cpuSeconds = Math.min(10, seconds);
  const tmp = makeTempDir('astral-hls-bench-');
  const clients: HlsClient[] = [];
  const failures: string[] = [];
  const procs: ManagedProcess[] = [];
  let bed: RelayTestbed | null = null;
  let peer: FfmpegHlsPeer | null = null;
  let clock: SourceClock | null = null;
  const peerBodies: { init: Buffer | null; segments: { arrival: HlsArrival; body: Buffer }[] } = {
    init: null,
    segments: [],
  };
  const client = (url: string, mode: HlsClientMode, onBody?: HlsClientOptions['onBody']): HlsClient => {
    const c = new HlsClient({ url, mode, startTimeoutMs: 30_000, onBody });
    clients.push(c);
    return c;
  };
  try {
    bed = await startRelayTestbed();
    const relays: TestRelay[] = [];
    for (let i = 0; i <= hops; i++) relays.push(await bed.startRelay(`hop${i}`, { logLevel: 'warn' }));
    const streamId = `bench-hls-${randomBytes(3).toString('hex')}`;
    const key = randomBytes(18).toString('base64url');
    await relays[0].control.authorizePublish({ streamId, keyHash: sha256Hex(key) });
    procs.push(
      spawnFfmpegLoopPublisher(
        'ffmpeg-publish',
        sampleFlvPath(),
        `${relays[0].rtmpUrl(streamId)}?key=${key}`,
        join(tmp, 'publish.log'),
      ),
    );
    for (let i = 1; i <= hops; i++) {
      await relays[i - 1].waitForTagsIn(streamId, 10, {
        timeoutMs: 30_000,
        what: `the stream at hop ${i - 1}`,
      });
      await bed.pull(relays[i], relays[i - 1], streamId);
    }
    const tail = relays[hops];
    await tail.waitForTagsIn(streamId, 50, { timeoutMs: 30_000, what: `the stream at hop ${hops}` });
    const url = (r: TestRelay, mode: HlsClientMode): string =>
      `http://127.0.0.1:${r.ports.http}${mode === 'll' ? llHlsPlaylistPath(streamId) : hlsPlaylistPath(streamId)}`;

    // ffmpeg's muxer first: it needs a few segments before its playlist is worth measuring.
    clock = await SourceClock.open(relays[0].httpFlvUrl(streamId));
    peer = await startFfmpegHlsPeer(relays[0].httpFlvUrl(streamId), join(tmp, 'ffmpeg-hls.log'), {
      copyts: true,
    });

    // Segmenting cost: the tail relay relaying only, then with one LL-HLS client (segmenting starts with it).
    const tailCpu = new CpuWindow(tail.process.pid!);
    tailCpu.start();
    await sleep(cpuSeconds * 1000);
    const idle = tailCpu.stop();
    const llTail = await started(client(url(tail, 'll'), 'll'), 'the LL-HLS client at the tail', failures);
    await sleep(2000);
    tailCpu.start();
    await sleep(cpuSeconds * 1000);
    const segmenting = tailCpu.stop();

    // Latency: LL and plain at depth 0 and depth H, and ffmpeg's muxer, side by side.
    const plainTail = await started(
      client(url(tail, 'plain'), 'plain'),
      'the HLS client at the tail',
      failures,
    );
    const llHead = await started(client(url(relays[0], 'll'), 'll'), 'the LL-HLS client at hop 0', failures);
    const plainHead = await started(
      client(url(relays[0], 'plain'), 'plain'),
      'the HLS client at hop 0',
      failures,
    );
    const peerClient = await started(
      client(peer.playlistUrl, 'plain', (_uri, body, arrival) => {
        if (!arrival) peerBodies.init = body;
        else peerBodies.segments.push({ arrival, body });
      }),
      "the HLS client of ffmpeg's muxer",
      failures,
    );
    const peerCpu = new CpuWindow(peer.process.pid!);
    const t0 = Date.now();
    tailCpu.start();
    peerCpu.start();
    await sleep(seconds * 1000);
    const t1 = Date.now();
    const twoClients = tailCpu.stop();
    const ffmpegCpu = peerCpu.stop();

    // At the player: hls.js in Chromium, the four side by side (8 s to settle, then 15 s sampled).
    let players_: HlsPlayers | null = null;
    let runs: (HlsPlayerRun | null)[] = [null, null, null, null];
    try {
      players_ = await HlsPlayers.start();
      const p = players_;
      const play = (u: string, ll: boolean, what: string) =>
        p.play(u, ll, 8, 15).catch((err: Error) => {
          failures.push(`hls.js ${what}: ${err.message}`);
          return null;
        });
      runs = await Promise.all([
        play(url(tail, 'll'), true, 'LL-HLS at the tail'),
        play(url(tail, 'plain'), false, 'HLS at the tail'),
        play(url(relays[0], 'll'), true, 'LL-HLS at hop 0'),
        play(peer.playlistUrl, false, "on ffmpeg's playlist"),
      ]);
    } catch (err) {
      failures.push(`hls.js players: ${(err as Error).message}`);
    } finally {
      await players_?.close();
    }
    const [llPlayer, plainPlayer, llHeadPlayer, peerPlayer] = runs.map(playerFigures);

    // Fan-out: P more LL-HLS players on the tail.
    const many: HlsClient[] = [];
    for (let i = 0; i < players; i++) many.push(client(url(tail, 'll'), 'll'));
    if (llTail) await Promise.all(many.map((c) => c.start().catch((e: Error) => failures.push(e.message))));
    await sleep(3000);
    tailCpu.start();
    const bytes0 = many.reduce((s, c) => s + c.arrivals.reduce((t, a) => t + a.bytes, 0), 0);
    await sleep(cpuSeconds * 1000);
    const withPlayers = tailCpu.stop();
    const bytes1 = many.reduce((s, c) => s + c.arrivals.reduce((t, a) => t + a.bytes, 0), 0);
    const playersReceiving = many.filter((c) => c.arrivals.length > 0).length;

    const astralProbe = await probeOrReason(url(tail, 'plain'), tmp);
    const peerProbe = await probeOrReason(peer.playlistUrl, tmp);
    await Promise.all(clients.map((c) => c.stop()));
    peerBodies.segments = peerBodies.segments.filter(
      (s) => s.arrival.arrivalMs >= t0 && s.arrival.arrivalMs < t1,
    );
    const peerAnchored = await anchoredLatencies(peerBodies, clock, tmp);

    const llTailStats = stats(windowed(llTail, t0, t1));
    const plainTailStats = stats(windowed(plainTail, t0, t1));
    const depth = (ll: HlsClient | null, plain: HlsClient | null, from: number, to: number) => ({
      llhlsLatencyMs: stats(windowed(ll, from, to)),
      hlsLatencyMs: stats(windowed(plain, from, to)),
      llPartsAdvertised: ll?.partsAdvertised.size ?? 0,
      llHintMisses: ll?.hintMisses ?? 0,
      discontinuities: ll?.discontinuityMsns.size ?? 0,
      problems: [...(ll?.problems ?? []), ...(plain?.problems ?? [])].slice(0, 5),
    });
    const result = {
      hops,
      players,
      seconds,
      input: 'fixtures/sample.flv, H.264 + AAC, 1 s GOP, ffmpeg -re -stream_loop -1 over RTMP into hop 0',
      latencyIs:
        'availability at the client: arrival − (segment PDT + part offset); a player sits behind by its hold-back',
      decodable: astralProbe.decodable,
      llhls: {
        partsAdvertised: llTail?.partsAdvertised.size ?? 0,
        latencyMs: llPlayer?.latencyMs ?? null,
        availabilityMs: llTailStats,
        player: llPlayer,
        partsViaPreloadHint: llTail?.arrivals.filter((a) => a.viaHint).length ?? 0,
      },
      hls: { latencyMs: plainPlayer?.latencyMs ?? null, availabilityMs: plainTailStats, player: plainPlayer },
      depth0Player: { llhls: llHeadPlayer },
      segmentCpuPercent: llTail ? segmenting.cpuPercent - idle.cpuPercent : NaN,
      cpuPer100PlayersPercent: playersReceiving
        ? ((withPlayers.cpuPercent - twoClients.cpuPercent) / playersReceiving) * 100
        : NaN,
      ffmpegPeer: {
        decodable: peerProbe.decodable,
        hls: {
          latencyMs: peerPlayer && {
            p50: stats(peerAnchored.latencies).p50 + peerPlayer.behindLiveEdgeMs.p50,
            p95: stats(peerAnchored.latencies).p95 + peerPlayer.behindLiveEdgeMs.p95,
          },
          availabilityMs: stats(peerAnchored.latencies),
          player: peerPlayer,
        },
        segmentsDatedBySourceClock: `${peerAnchored.anchored} of ${peerAnchored.of}`,
        latencyByOwnPdtMs: stats(windowed(peerClient, t0, t1)),
        segmentCpuPercent: ffmpegCpu.cpuPercent,
        llhls: 'not offered by ffmpeg 5.1 (no EXT-X-PART)',
        how: 'ffmpeg -i <hop 0 HTTP-FLV> -c copy -f hls fmp4 2 s; CPU is the whole ffmpeg (demux + mux); latency dated by the source clock (-copyts), not its PDT',
        problems: peerClient?.problems.slice(0, 5) ?? [],
      },
      perDepth: {
        depth0: depth(llHead, plainHead, t0, t1),
        [`depth${hops}`]: depth(llTail, plainTail, t0, t1),
      },
      cpu: {
        tailRelayingOnlyPercent: idle.cpuPercent,
        tailOneLlClientPercent: segmenting.cpuPercent,
        tailLlAndPlainClientPercent: twoClients.cpuPercent,
        [`tailWith${players}MorePlayersPercent`]: withPlayers.cpuPercent,
        playersReceiving,
        playersMbps: ((bytes1 - bytes0) * 8) / withPlayers.seconds / 1e6,
      },
      probe: { astral: astralProbe, ffmpegPeer: peerProbe },
      failures,
    };
    report(`hls H=${hops} P=${players}`, result, flags.get('json'));
    if (failures.length)
      throw new Error(`the HLS bench could not measure everything:\n${failures.join('\n')}`);
  } catch (err) {
    if (bed) console.error(bed.logs(3000));
    if (peer) console.error(`----- ffmpeg-hls -----\n${peer.process.readLog(2000)}`);
    throw err;
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
    clock?.close();
    await peer?.stop();
    await Promise.all(procs.map((p) => p.stop('SIGTERM', 5000)));
    await bed?.stop();
    removeTempDir(tmp);
  }
}
