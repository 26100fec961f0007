/**
 * Failover on a real local network (directory, N nodes as agent + relay processes, Redis): each interior
 * node is SIGKILLed in turn and its orphans' players are measured against a player at the source.
 *   npm run bench -- failover --nodes N [--standby [--standby-mode receiving|idle]] [--kills K] [--json FILE]
 * With --standby every node runs with `--standby players` (docs/RELAY.md "Standby").
 */
import { FlvTagReader, agentApi, descendants, forwardTree, httpJson, sleep, waitFor } from '@astral/testing';
import { RelayStats } from '@astral/contracts';
import { FlvTag, frameFingerprint, isVideoFrame } from '@astral/media';
import { sampleBitrateBps } from './lib/flv-bitrate';
import { parseFlags, percentile, report } from './lib/report';
import { Overlay, buildOverlay } from './overlay';

interface Frame {
  fp: string;
  at: number;
}

/** The source's frames as a player at the source saw them, to place a viewer's frame in the source's order. */
class SourceFrames {
  readonly frames: Frame[] = [];
  private readonly byFp = new Map<string, number[]>();

  add(f: Frame): void {
    const list = this.byFp.get(f.fp) ?? [];
    list.push(this.frames.length);
    this.byFp.set(f.fp, list);
    this.frames.push(f);
  }

  /** The source index of a viewer's frame: of the same bytes, the one the source saw nearest in time (the sample loops). */
  indexOf(f: Frame): number | null {
    const list = this.byFp.get(f.fp);
    if (!list) return null;
    let best = list[0];
    for (const i of list)
      if (Math.abs(this.frames[i].at - f.at) < Math.abs(this.frames[best].at - f.at)) best = i;
    return best;
  }
}

/** Lost and repeated frames at one player over a window, against the source's order. */
function frameLoss(src: SourceFrames, frames: Frame[]): { lost: number; repeated: number } {
  const seen = new Set<number>();
  let repeated = 0;
  for (const f of frames) {
    const i = src.indexOf(f);
    if (i === null) continue;
    if (seen.has(i)) repeated++;
    seen.add(i);
  }
  if (seen.size === 0) return { lost: 0, repeated };
  const idx = [...seen];
  return { lost: Math.max(...idx) - Math.min(...idx) + 1 - seen.size, repeated };
}

const sumStats = async (o: Overlay, pick: (s: RelayStats) => number): Promise<number> => {
  const all = await Promise.all(
    o.net.nodes.map((n) => httpJson<RelayStats>('GET', n.forwardStatsUrl).catch(() => null)),
  );
  return all.reduce((n, s) => n + (s ? pick(s) : 0), 0);
};

export async function failoverBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const nodes = Number(flags.get('nodes') ?? 10);
  const standby = flags.has('standby');
  const standbyMode = flags.get('standby-mode') ?? 'receiving';
  const maxKills = Number(flags.get('kills') ?? Infinity);
  // The same limit with and without standby: a standby's forward counts against its upstream's budget.
  const limitBps = Math.round(2.4 * sampleBitrateBps());
  const frames = new Map<number, Frame[]>();
  const onTag = (i: number, tag: FlvTag, at: number): void => {
    if (!isVideoFrame(tag)) return;
    let list = frames.get(i);
    if (!list) frames.set(i, (list = []));
    list.push({ fp: frameFingerprint(tag), at });
  };
  const env: Record<string, string> = standby
    ? { ASTRAL_STANDBY: 'players', ASTRAL_STANDBY_MODE: standbyMode }
    : {};
  const o = await buildOverlay(nodes, String(limitBps), flags.get('log-dir'), { env, onTag });
  const src = new SourceFrames();
  const sourcePlayer = await FlvTagReader.open(o.net.nodes[0].playUrls(o.streamId).httpFlv, (tag, at) => {
    if (isVideoFrame(tag)) src.add({ fp: frameFingerprint(tag), at });
  });
  const recovery: number[] = [];
  let lostTotal = 0;
  let repeatedTotal = 0;
  let kills = 0;
  let playerDisconnects = 0;
  try {
    await sleep(2000);
    const standbyCount = async () =>
      (
        await Promise.all(
          o.net.nodes.map((n) => httpJson<RelayStats>('GET', n.forwardStatsUrl).catch(() => null)),
        )
      ).filter((s) => s?.streams.some((x) => x.streamId === o.streamId && x.standby)).length;
    if (standby)
      await waitFor(async () => (await standbyCount()) >= Math.floor((nodes - 1) * 0.8), {
        timeoutMs: 60_000,
        intervalMs: 1000,
        what: 'most viewers to hold a standby',
      }).catch(() => undefined);
    const standbys = await standbyCount();
    // The upload standbys cost: the bytes standby pulls received, over a quiet window.
    const egress = (s: RelayStats) => s.egressBps;
    const b0 = await sumStats(o, (s) => s.standbyBytesIn ?? 0);
    const t0 = performance.now();
    await sleep(10_000);
    const standbyUploadBps =
      (((await sumStats(o, (s) => s.standbyBytesIn ?? 0)) - b0) * 8000) / (performance.now() - t0);
    const egressBps = await sumStats(o, egress);

    for (let i = 1; i < nodes && kills < maxKills; i++) {
      const victim = o.net.nodes[i];
      const t = await forwardTree(o.net, o.streamId);
      const orphans = descendants(t, victim.nodeId).map(
        (id) => o.net.nodes.find((n) => n.nodeId === id)!.index,
      );
      if (orphans.length === 0) continue; // a leaf: nothing to recover
      kills++;
      const killedAt = performance.now();
      victim.kill('SIGKILL');
      o.readers.get(i)?.close();
      o.readers.delete(i);
      await Promise.all(
        orphans.map(async (k) => {
          const log = frames.get(k) ?? [];
          const before = log.filter((f) => f.at <= killedAt);
          const maxBefore = Math.max(-1, ...before.slice(-50).map((f) => src.indexOf(f) ?? -1));
          const fresh = () => log.filter((f) => f.at > killedAt && (src.indexOf(f) ?? -1) > maxBefore);
          try {
            await waitFor(() => fresh().length >= 25, {
              timeoutMs: 15_000,
              intervalMs: 20,
              what: `node ${k + 1}`,
            });
          } catch {
            recovery.push(15_000);
            return;
          }
          // The player's longest stall: from its last frame before the kill to a second of fresh video.
          const end = fresh()[24].at;
          const from = before.length > 0 ? before[before.length - 1].at : killedAt;
          const win = log.filter((f) => f.at >= from && f.at <= end);
          let gap = 0;
          for (let j = 1; j < win.length; j++) gap = Math.max(gap, win[j].at - win[j - 1].at);
          recovery.push(gap);
          const loss = frameLoss(
            src,
            log.filter((f) => f.at >= killedAt - 2000 && f.at <= end),
          );
          lostTotal += loss.lost;
          repeatedTotal += loss.repeated;
        }),
      );
      // The victim comes back as a fresh viewer, so the next round has a full tree again.
      await victim.process.exited;
      await victim.start();
      await waitFor(() => agentApi(victim, 'POST', `/api/streams/${o.streamId}/watch`).catch(() => null), {
        // Generous: at N=30 on 2 cores (90 processes) peers answer slowly; this is set-up for the next round.
        timeoutMs: 90_000,
        intervalMs: 300,
        what: `node ${i + 1} to watch again`,
      });
      frames.delete(i);
      o.readers.set(
        i,
        await FlvTagReader.open(victim.playUrls(o.streamId).httpFlv, (tag, at) => onTag(i, tag, at)),
      );
      await sleep(standby ? 4000 : 1500);
    }
    for (const r of o.readers.values()) if (r.ended) playerDisconnects++;
    const sorted = [...recovery].sort((x, y) => x - y);
    report(
      `failover: ${nodes} nodes, interior nodes SIGKILLed in turn${standby ? `, standby ${standbyMode}` : ''}`,
      {
        nodes,
        standby: standby ? standbyMode : 'off',
        interiorKills: kills,
        orphansMeasured: recovery.length,
        recoveryMs: {
          p50: percentile(sorted, 50),
          p95: percentile(sorted, 95),
          max: sorted[sorted.length - 1] ?? NaN,
        },
        lostFrames: recovery.length ? lostTotal / recovery.length : NaN,
        repeatedFrames: recovery.length ? repeatedTotal / recovery.length : NaN,
        lostFramesTotal: lostTotal,
        playerDisconnects,
        standbys,
        standbyUploadBps: Math.round(standbyUploadBps),
        egressBps: Math.round(egressBps),
      },
      flags.get('json'),
    );
  } finally {
    sourcePlayer.close();
    await o.stop();
  }
}
