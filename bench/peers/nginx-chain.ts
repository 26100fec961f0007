import { sampleFlvPath, sleep, waitFor } from '@astral/testing';
import { LatencyStats, frameLatencies, hopLatencies, latencyStats, perLevel } from '../lib/player-latency';
import { percentile } from '../lib/report';
import { NginxRtmp, startNginxRtmp } from './nginx-rtmp';
import { RtmpFramePlayer } from './rtmp-frame-player';
import { RtmpLoopPublisher } from './rtmp-publisher';

/**
 * The nginx-rtmp chain beside Astral's (bench/chain.ts, bench/peers.ts): H+1 nginx relays, each `push`ing to
 * the next; fixtures/sample.flv published to the first over RTMP in real time, looped (RtmpLoopPublisher, the
 * same pacing as the Astral bench's publisher, reporting each video frame's write time); one RTMP player
 * (RtmpFramePlayer, in this process) at every relay records each video frame's arrival. On this process's
 * clock: a hop is the arrival-time difference of the same frame (by timestamp: nginx-rtmp relays them
 * unchanged) at consecutive relays; a depth's player latency is arrival − write.
 */
export interface NginxChainResult {
  hops: number;
  perHopLatencyMs: { p50: number; p95: number; max: number };
  hopsDetail: Record<string, string>;
  /** Publisher write → RTMP player arrival, per depth (0 = the relay published to). */
  playerLatencyMs: {
    byDepth: { depth: number; rtmp: LatencyStats }[];
    p50PerLevel: number;
    p95PerLevel: number;
  };
  framesPublished: number;
  framesAtTail: number;
}

export async function runNginxChain(options: {
  tmp: string;
  hops: number;
  seconds: number;
}): Promise<NginxChainResult> {
  const { tmp, hops, seconds } = options;
  const nginxes: NginxRtmp[] = [];
  const players: RtmpFramePlayer[] = [];
  let publisher: RtmpLoopPublisher | null = null;
  try {
    for (let i = hops; i >= 0; i--)
      nginxes.unshift(await startNginxRtmp(tmp, `chain${i}`, nginxes.length ? [nginxes[0].port] : []));
    const written = new Map<number, number>();
    publisher = await RtmpLoopPublisher.start(sampleFlvPath(), nginxes[0].rtmpUrl('chain'), (ts, at) =>
      written.set(ts, at),
    );
    for (const x of nginxes) {
      // A relay down the chain has the stream only once its upstream's push reached it.
      const player = await waitFor(() => RtmpFramePlayer.open(x.rtmpUrl('chain')).catch(() => null), {
        timeoutMs: 20_000,
        intervalMs: 200,
        what: `an RTMP player on nginx ${x.name}`,
      });
      players.push(player);
    }
    await waitFor(() => players.every((p) => p.videoFrames.length > 25), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'frames at every nginx relay',
    }).catch((err: Error) => {
      const logs = nginxes.map(
        (x, i) => `${x.name}: ${players[i]?.videoFrames.length ?? 0} frames; ${x.errorLog().slice(-600)}`,
      );
      throw new Error(`${err.message}\n${logs.join('\n')}`);
    });
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const t1 = performance.now();
    await sleep(1000);
    const perHop: number[] = [];
    const hopsDetail: Record<string, string> = {};
    for (let i = 1; i <= hops; i++) {
      const d = hopLatencies(written, players[i - 1].videoFrames, players[i].videoFrames, t0, t1);
      perHop.push(...d);
      hopsDetail[`hop${i}`] = `p50 ${percentile(d, 50).toFixed(2)} / p95 ${percentile(d, 95).toFixed(2)}`;
    }
    perHop.sort((a, b) => a - b);
    const byDepth = players.map((p, depth) => ({
      depth,
      rtmp: latencyStats(frameLatencies(written, p.videoFrames, t0, t1)),
    }));
    const slope = perLevel(
      byDepth.map((d) => ({ rtmp: d.rtmp })),
      'rtmp',
    );
    const inWindow = [...written.values()].filter((at) => at >= t0 && at < t1).length;
    return {
      hops,
      perHopLatencyMs: {
        p50: percentile(perHop, 50),
        p95: percentile(perHop, 95),
        max: perHop[perHop.length - 1],
      },
      hopsDetail,
      playerLatencyMs: { byDepth, p50PerLevel: slope.p50, p95PerLevel: slope.p95 },
      framesPublished: inWindow,
      framesAtTail: byDepth[hops].rtmp.samples,
    };
  } finally {
    for (const p of players) p.close();
    await publisher?.stop();
    await Promise.all(nginxes.map((x) => x.stop()));
  }
}
