/**
 * Churn on a real local network (directory, N nodes as agent + relay processes, Redis):
 *   npm run bench -- churn --nodes 30 --rate 3 [--minutes 3] [--upload-limit-streams 3] [--json FILE] [--svg FILE] [--log-dir DIR]
 *
 * Node 1 publishes the bundled sample; every other node watches it with an HTTP-FLV reader. For M minutes,
 * R viewers a minute leave (alternately SIGKILL and a clean SIGTERM exit), then start again and watch again.
 * The source never leaves.
 *
 * - continuity: for each viewer, the share of one-second slots while it was present (from its first frame
 *   after it (re)joined until it left or the run ended) in which it received at least one video frame;
 *   averaged over viewers.
 * - recovery: for each orphan (a node below a leaver in the forward tree at the moment it left), the time
 *   from the leave to the first keyframe newer than anything it had before.
 * - control messages per node per second: the directory's own counters (registrations and heartbeats, from
 *   GET /metrics) plus the peer messages the agents send: one membership heartbeat a second per member,
 *   one ticket heartbeat a second per confirmed ticket (both request + reply), and per negotiation about
 *   8 requests + offers, one confirm and the cancels, counted from the agents' 'ticket confirmed' and
 *   'joined a supernode' log lines. Approximate: the agents have no message counters of their own.
 */
import type { PublishReply } from '@astral/contracts';
import {
  FlvTagReader,
  LocalNetwork,
  descendants,
  forwardTree,
  sampleFlvPath,
  sleep,
  startLocalNetwork,
  waitFor,
  agentApi,
} from '@astral/testing';
import { FlvFilePublisher } from '@astral/media';
import { readFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { sampleBitrateBps } from './lib/flv-bitrate';
import { parseFlags, percentile, report } from './lib/report';
import { lineChart, writeSvg } from './lib/svg';

/** One viewer's presence: reader attached, from `from` (first frame, performance.now()) to `to`. */
interface Presence {
  node: number;
  reader: FlvTagReader;
  joinedAt: number;
  to: number | null;
}

async function directoryCounters(net: LocalNetwork): Promise<number> {
  const text = await fetch(`${net.directoryUrl}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^astral_directory_(registrations|heartbeats)_total(?:\{[^}]*\})?\s+([0-9.e+]+)/.exec(line);
    if (m) sum += Number(m[2]);
  }
  return sum;
}

function countLogLines(net: LocalNetwork, pattern: RegExp): number {
  let n = 0;
  for (const node of net.nodes) {
    try {
      n += readFileSync(node.logFile, 'utf8')
        .split('\n')
        .filter((l) => pattern.test(l)).length;
    } catch {
      // no log yet
    }
  }
  return n;
}

export async function churnBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const nodes = Number(flags.get('nodes') ?? 30);
  const rate = Number(flags.get('rate') ?? 3);
  const minutes = Number(flags.get('minutes') ?? 3);
  const streams = Number(flags.get('upload-limit-streams') ?? 3);
  const svgFile = flags.get('svg') ?? 'docs/bench/continuity.svg';
  const heartbeatMs = 1000;
  const limitBps = Math.round((streams + 0.4) * sampleBitrateBps());
  const t00 = performance.now();
  const net = await startLocalNetwork({
    nodes: Array.from({ length: nodes }, () => ({
      uploadLimit: String(limitBps),
      env: { ASTRAL_MAX_CHILDREN: '8' },
    })),
    heartbeatMs,
    logLevel: 'info',
    readyTimeoutMs: 120_000,
    // --log-dir DIR keeps every process's log after the run (otherwise removed with the temp dir).
    logDir: flags.get('log-dir'),
  });
  const presences: Presence[] = [];
  const current = new Map<number, Presence>();
  const recovery: number[] = [];
  const pending: Promise<void>[] = [];
  let publisher: FlvFilePublisher | null = null;
  let leaves = 0;
  let kills = 0;
  let failedRejoins = 0;
  try {
    const created = await agentApi<PublishReply>(net.nodes[0], 'POST', `/api/streams`, {
      title: 'churn',
    });
    const streamId = created.streamId;
    publisher = new FlvFilePublisher({ file: sampleFlvPath(), url: created.publishUrl });
    await publisher.start();
    await sleep(2000);

    const watch = async (i: number): Promise<void> => {
      const node = net.nodes[i];
      await waitFor(() => agentApi(node, 'POST', `/api/streams/${streamId}/watch`).catch(() => null), {
        timeoutMs: 60_000,
        intervalMs: 300,
        what: `node ${i + 1} to get a ticket`,
      });
      const reader = await FlvTagReader.open(node.playUrls(streamId).httpFlv);
      const p: Presence = { node: i, reader, joinedAt: performance.now(), to: null };
      presences.push(p);
      current.set(i, p);
    };
    // Viewers join a few at a time (each waits for its ticket), so the tree grows as it would.
    let setupFailures = 0;
    for (let i = 1; i < nodes; i += 3) {
      await Promise.all(
        Array.from({ length: Math.min(3, nodes - i) }, (_, k) =>
          watch(i + k).catch((err: Error) => {
            setupFailures++;
            console.error(`node ${i + k + 1} did not join: ${err.message}`);
          }),
        ),
      );
    }
    await sleep(3000);
    const setupS = (performance.now() - t00) / 1000;

    const dir0 = await directoryCounters(net);
    const confirms0 = countLogLines(net, /ticket confirmed/);
    const joins0 = countLogLines(net, /joined a supernode|promoted to supernode/);
    const start = performance.now();
    const end = start + minutes * 60_000;
    const gapMs = 60_000 / rate;
    let memberSeconds = 0;
    let ticketSeconds = 0;
    let lastSample = start;
    // Leaves are spread evenly; each leaver rejoins as soon as it has exited (in the background).
    for (let k = 0; performance.now() + gapMs <= end + 1; k++) {
      const due = start + (k + 0.5) * gapMs;
      while (performance.now() < due) {
        await sleep(Math.min(1000, due - performance.now()));
        const now = performance.now();
        const present = [...current.keys()].length;
        memberSeconds += (present + 1) * ((now - lastSample) / 1000); // every node but a supernode heartbeats one
        ticketSeconds += present * ((now - lastSample) / 1000); // one confirmed ticket per viewer
        lastSample = now;
      }
      const choices = [...current.keys()];
      if (choices.length === 0) continue;
      const i = choices[Math.floor(Math.random() * choices.length)];
      const victim = net.nodes[i];
      const tree = await forwardTree(net, streamId);
      const orphans = descendants(tree, victim.nodeId)
        .map((id) => net.nodes.find((n) => n.nodeId === id)?.index)
        .filter((x): x is number => x !== undefined && current.has(x));
      const p = current.get(i)!;
      const leftAt = performance.now();
      const hardKill = leaves % 2 === 0;
      leaves++;
      if (hardKill) {
        kills++;
        victim.kill('SIGKILL');
      } else void victim.stop();
      p.to = leftAt;
      p.reader.close();
      current.delete(i);
      for (const o of orphans) {
        const r = current.get(o)?.reader;
        if (!r) continue;
        const lastTs = Math.max(0, ...r.videoFrames.map((f) => f.timestamp));
        pending.push(
          waitFor(
            () => r.videoFrames.find((f) => f.keyframe && f.arrivalMs > leftAt && f.timestamp > lastTs),
            {
              timeoutMs: 20_000,
              intervalMs: 20,
              what: `a new keyframe at node ${o + 1}`,
            },
          ).then(
            (f) => void recovery.push(f.arrivalMs - leftAt),
            () => void recovery.push(20_000),
          ),
        );
      }
      pending.push(
        (async () => {
          try {
            await victim.process.exited;
            await victim.start();
            await watch(i);
          } catch {
            failedRejoins++;
          }
        })(),
      );
    }
    while (performance.now() < end) await sleep(Math.min(500, end - performance.now()));
    const stop = performance.now();
    const spanS = (stop - start) / 1000;
    const dir1 = await directoryCounters(net);
    const confirms = countLogLines(net, /ticket confirmed/) - confirms0;
    const joins = countLogLines(net, /joined a supernode|promoted to supernode/) - joins0;
    await Promise.allSettled(pending);

    // Continuity per viewer presence, and per 10 s window over time.
    const windowS = 10;
    const windows = Math.ceil(spanS / windowS);
    const winHit = new Array<number>(windows).fill(0);
    const winAll = new Array<number>(windows).fill(0);
    const perViewer = new Map<number, { hit: number; all: number }>();
    for (const p of presences) {
      const first = p.reader.videoFrames[0]?.arrivalMs;
      const from = Math.max(start, first ?? Number.POSITIVE_INFINITY);
      const to = Math.min(stop, p.to ?? stop);
      if (!(from < to)) continue;
      const s0 = Math.ceil((from - start) / 1000);
      const s1 = Math.floor((to - start) / 1000);
      if (s1 <= s0) continue;
      const got = new Set<number>();
      for (const f of p.reader.videoFrames)
        if (f.arrivalMs >= start) got.add(Math.floor((f.arrivalMs - start) / 1000));
      const v = perViewer.get(p.node) ?? { hit: 0, all: 0 };
      for (let s = s0; s < s1; s++) {
        const ok = got.has(s) ? 1 : 0;
        v.hit += ok;
        v.all++;
        const w = Math.min(windows - 1, Math.floor(s / windowS));
        winHit[w] += ok;
        winAll[w]++;
      }
      perViewer.set(p.node, v);
    }
    const shares = [...perViewer.values()].filter((v) => v.all > 0).map((v) => v.hit / v.all);
    const continuity = shares.reduce((a, b) => a + b, 0) / Math.max(1, shares.length);
    const series = winAll.map((a, w) => ({ x: w * windowS, y: a ? winHit[w] / a : NaN }));
    mkdirSync(dirname(svgFile), { recursive: true });
    writeSvg(
      svgFile,
      lineChart({
        title: `Continuity under churn: ${nodes} nodes, ${rate} leaves/min`,
        xLabel: 'time since churn started (s)',
        yLabel: 'continuity (10 s window)',
        yMin: 0,
        yMax: 1,
        series: [
          { name: 'continuity', points: series.filter((p) => Number.isFinite(p.y)) },
          {
            name: 'goal 0.99',
            points: [
              { x: 0, y: 0.99 },
              { x: windows * windowS, y: 0.99 },
            ],
            dashed: true,
          },
        ],
      }),
    );

    // Control messages (request + reply counted as two).
    const dirMsgs = dir1 - dir0;
    const negotiation = confirms * (2 * 8 + 2) + joins * 2; // ≤8 requests + replies, a confirm + reply, cancels folded in
    const peerMsgs = 2 * memberSeconds + 2 * ticketSeconds + negotiation;
    const sorted = [...recovery].sort((a, b) => a - b);
    report(
      `churn: ${nodes} nodes, ${rate} leaves/min for ${minutes} min`,
      {
        nodes,
        ratePerMinute: rate,
        churnPerMinute: rate / nodes,
        minutes,
        uploadLimitStreams: streams,
        leaves,
        sigkills: kills,
        cleanExits: leaves - kills,
        failedRejoins,
        setupFailures,
        continuity,
        continuityMinViewer: shares.length ? Math.min(...shares) : NaN,
        orphans: recovery.length,
        recoveryMs: {
          p50: percentile(sorted, 50),
          p95: percentile(sorted, 95),
          max: sorted[sorted.length - 1] ?? NaN,
        },
        controlMsgsPerNodePerS: {
          directory: dirMsgs / nodes / spanS,
          peerApprox: peerMsgs / nodes / spanS,
          total: (dirMsgs + peerMsgs) / nodes / spanS,
        },
        negotiations: confirms,
        membershipJoins: joins,
        continuityPer10s: series.map((p) => Math.round(p.y * 1000) / 1000),
        setupS,
        runS: (performance.now() - t00) / 1000,
        svg: svgFile,
      },
      flags.get('json'),
    );
  } finally {
    for (const p of current.values()) p.reader.close();
    await publisher?.stop().catch(() => undefined);
    await net.stop();
  }
}
