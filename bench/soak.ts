/**
 * `npm run bench -- soak [--hours H] [--minutes M] [--publisher rtmp|astral] [--json FILE]`
 *
 * A chain of 3 nodes as in the demo (node 1 limited to one copy, so node 3 pulls from node 2), a
 * stream published to node 1 (ffmpeg over RTMP by default, or `astral publish` over HTTP-FLV), and
 * two players at node 3: HTTP-FLV and RTMP. Runs H hours plus M minutes (default 1 hour), then
 * reports per player the wall-clock gaps over 1 s between video tags and the largest timestamp leap,
 * the reconnects (players, publisher restarts, relay republish restarts, upstream losses and
 * switches), and the RSS of every process at the start and the end. The JSON (--json) is rewritten
 * every minute with a timeline of RSS samples, so a run killed midway leaves its data; Ctrl-C or
 * SIGTERM prints the partial result.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RelayStats } from '@astral/contracts';
import { parseFlvFile, isVideoFrame } from '@astral/media';
import {
  LocalNetwork,
  ManagedProcess,
  httpJson,
  sampleFlvPath,
  sleep,
  spawnAstral,
  spawnFfmpegLoopPublisher,
  startLocalNetwork,
} from '@astral/testing';
import { watch } from '../apps/cli/src/commands/demo.command';
import { createStream } from '../apps/cli/src/commands/publish.command';
import { childWithRole } from './fuzz/target';
import { rssMbSync } from './lib/proc-sampler';
import { parseFlags, report } from './lib/report';
import { HttpFlvSoakPlayer, RtmpSoakPlayer, SoakPlayer } from './soak/players';
import { TagTimeline, countMatches, frameIntervalMs } from './soak/timeline';

const LOG_PATTERNS = {
  republishInterrupted: /local republish interrupted/,
  upstreamLost: /upstream lost/,
  upstreamSwitched: /switched upstream/,
};

/** Every process of the network (node start, its agent and relay, the directory) and the publisher, by name → pid. */
function processPids(net: LocalNetwork, publisher: ManagedProcess | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (net.directory.pid) out.directory = net.directory.pid;
  for (const n of net.nodes) {
    const pid = n.process.running ? n.process.pid : undefined;
    if (!pid) continue;
    for (const role of ['agent', 'relay']) {
      const c = childWithRole(pid, role);
      if (c) out[`${n.name}.${role}`] = c;
    }
  }
  if (publisher?.running && publisher.pid) out.publisher = publisher.pid;
  return out;
}

function rssSample(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    try {
      out[name] = Math.round(rssMbSync(pid) * 10) / 10;
    } catch {
      // exited between listing and reading
    }
  }
  return out;
}

/** Counts new log lines matching LOG_PATTERNS since the last call, per file. */
class LogTally {
  readonly counts: Record<string, number> = Object.fromEntries(Object.keys(LOG_PATTERNS).map((k) => [k, 0]));
  private readonly offsets = new Map<string, number>();

  scan(files: string[]): void {
    for (const f of files) {
      let size: number;
      try {
        size = statSync(f).size;
      } catch {
        continue;
      }
      const from = this.offsets.get(f) ?? 0;
      if (size <= from) continue;
      const text = readFileSync(f).subarray(from, size).toString('utf8');
      const end = text.lastIndexOf('\n') + 1; // whole lines only
      this.offsets.set(f, from + Buffer.byteLength(text.slice(0, end)));
      for (const [k, v] of Object.entries(countMatches(text.slice(0, end), LOG_PATTERNS)))
        this.counts[k] += v;
    }
  }
}

export async function soakBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const hours = Number(flags.get('hours') ?? 0);
  const minutes = Number(flags.get('minutes') ?? (flags.has('hours') ? 0 : 60));
  const durationMs = (hours * 60 + minutes) * 60_000;
  if (!(durationMs > 0)) throw new Error('give --hours H and/or --minutes M (a positive duration)');
  const publisherKind = flags.get('publisher') ?? 'rtmp';
  if (publisherKind !== 'rtmp' && publisherKind !== 'astral')
    throw new Error('--publisher must be rtmp (ffmpeg) or astral');
  const jsonFile = flags.get('json');
  const log = (line: string): void => void process.stderr.write(`soak: ${line}\n`);

  const sample = sampleFlvPath();
  const frameMs = frameIntervalMs(
    parseFlvFile(readFileSync(sample))
      .tags.filter(isVideoFrame)
      .map((t) => t.timestamp),
  );
  const net = await startLocalNetwork({
    nodes: [{ uploadLimit: '1.5mbit' }, { uploadLimit: '4mbit' }, { uploadLimit: '4mbit' }],
  });
  const [n1, n2, n3] = net.nodes;
  log(`network up; logs in ${net.logDir}`);
  const players: SoakPlayer[] = [];
  let publisher: ManagedProcess | null = null;
  let publisherRestarts = 0;
  let stopping = false;
  const timers: NodeJS.Timeout[] = [];
  const tally = new LogTally();
  const upstreamOf = new Map<string, string | null>();
  let upstreamChanges = 0;
  const timeline: Record<string, unknown>[] = [];
  const rssStart: Record<string, number> = {};
  const rssMax: Record<string, number> = {};
  let chain: Record<string, unknown> = {};
  let t0 = Date.now();

  const result = (status: string): Record<string, unknown> => {
    const pids = processPids(net, publisher);
    const rssEnd = rssSample(pids);
    const s = Object.fromEntries(players.map((p) => [p.name, p.timeline.summary()]));
    const playerReconnects = players.reduce((a, p) => a + p.reconnects, 0);
    const reconnects = { players: playerReconnects, publisherRestarts, ...tally.counts, upstreamChanges };
    return {
      status,
      hours: (Date.now() - t0) / 3_600_000,
      plannedHours: durationMs / 3_600_000,
      publisher: publisherKind,
      frameIntervalMs: frameMs,
      chain,
      gapsOver1s: Object.fromEntries(players.map((p) => [p.name, s[p.name].gapsOver1s])),
      maxTimestampLeapMs: Object.fromEntries(players.map((p) => [p.name, s[p.name].maxTimestampLeapMs])),
      reconnects: { ...reconnects, total: Object.values(reconnects).reduce((a, b) => a + b, 0) },
      rssMb: Object.fromEntries(
        Object.keys({ ...rssStart, ...rssEnd }).map((k) => [
          k,
          { start: rssStart[k] ?? null, end: rssEnd[k] ?? null, max: rssMax[k] ?? null },
        ]),
      ),
      players: Object.fromEntries(
        players.map((p) => [p.name, { ...s[p.name], reconnects: p.reconnects, lastError: p.lastError }]),
      ),
      timeline,
    };
  };
  const write = (status: string, print: boolean): void => {
    const r = result(status);
    if (print) {
      const { timeline: tl, players: pl, ...table } = r;
      report('soak', {
        ...table,
        players: Object.fromEntries(
          Object.entries(pl as Record<string, Record<string, unknown>>).map(([k, v]) => [
            k,
            {
              frames: v.frames,
              maxGapMs: v.maxGapMs,
              maxForwardLeapMs: v.maxForwardLeapMs,
              maxBackwardLeapMs: v.maxBackwardLeapMs,
            },
          ]),
        ),
        timelineSamples: (tl as unknown[]).length,
      });
    }
    if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(r, null, 2)}\n`);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    for (const t of timers) clearInterval(t);
    log(`${signal}: stopping; partial result follows`);
    write(`interrupted by ${signal}`, true);
  };
  // After main's handler (which stops the processes and exits): this one prints the partial result at once.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const created = await createStream(n1.apiUrl, n1.apiToken, 'soak', 'fixtures/sample.flv, looped');
    const streamId = created.streamId;
    const startPublisher = (): void => {
      const logFile = join(net.logDir, 'publisher.log');
      const p =
        publisherKind === 'rtmp'
          ? spawnFfmpegLoopPublisher('publisher', sample, created.rtmpUrl, logFile)
          : spawnAstral('publisher', ['publish', sample, '--publish-url', created.publishUrl], { logFile });
      publisher = p;
      p.onExit((exit) => {
        if (stopping) return;
        log(`publisher exited (${JSON.stringify(exit)}); restarting in 1 s`);
        setTimeout(() => {
          if (stopping) return;
          publisherRestarts++;
          startPublisher();
        }, 1000);
      });
    };
    startPublisher();
    const a2 = await watch(n2, streamId);
    const a3 = await watch(n3, streamId);
    const names = new Map(net.nodes.map((n) => [n.nodeId, n.name]));
    chain = {
      node2Upstream: names.get(a2.upstreamNodeId) ?? a2.upstreamNodeId,
      node3Upstream: names.get(a3.upstreamNodeId) ?? a3.upstreamNodeId,
      node3Hops: a3.hops,
    };
    log(
      `stream ${streamId}: node2 ← ${String(chain.node2Upstream)}, node3 ← ${String(chain.node3Upstream)} (${a3.hops} hops)`,
    );
    players.push(new HttpFlvSoakPlayer('httpFlv', a3.play.httpFlv, new TagTimeline(frameMs)));
    players.push(
      new RtmpSoakPlayer('rtmp', a3.play.rtmp, new TagTimeline(frameMs), join(net.logDir, 'rtmp-player.log')),
    );
    for (const p of players) await p.start();
    t0 = Date.now();
    Object.assign(rssStart, rssSample(processPids(net, publisher)));
    Object.assign(rssMax, rssStart);

    const minute = (): void => {
      if (stopping) return;
      const rss = rssSample(processPids(net, publisher));
      for (const [k, v] of Object.entries(rss)) rssMax[k] = Math.max(rssMax[k] ?? 0, v);
      const frames = Object.fromEntries(players.map((p) => [p.name, p.timeline.summary().frames]));
      const gaps = Object.fromEntries(players.map((p) => [p.name, p.timeline.summary().gapsOver1s]));
      timeline.push({ minute: Math.round((Date.now() - t0) / 60_000), frames, gapsOver1s: gaps, rssMb: rss });
      write('running', false);
      log(`${timeline.length} min: frames ${JSON.stringify(frames)}, gaps ${JSON.stringify(gaps)}`);
    };
    const pollUpstreams = async (): Promise<void> => {
      tally.scan(net.nodes.map((n) => n.logFile));
      for (const n of [n2, n3]) {
        const stats = await httpJson<RelayStats>('GET', n.forwardStatsUrl, undefined, {
          timeoutMs: 3000,
        }).catch(() => null);
        const up = stats?.streams.find((s) => s.streamId === streamId)?.upstreamNodeId ?? null;
        if (upstreamOf.has(n.name) && upstreamOf.get(n.name) !== up) upstreamChanges++;
        upstreamOf.set(n.name, up);
      }
    };
    timers.push(
      setInterval(minute, 60_000),
      setInterval(() => void pollUpstreams(), 10_000),
    );
    const deadline = t0 + durationMs;
    while (!stopping && Date.now() < deadline) await sleep(Math.min(1000, deadline - Date.now()));
    // Stopped by a signal: main's handler stops the processes and exits; returning would exit at once.
    if (stopping) await new Promise<never>(() => undefined);
    await pollUpstreams();
    minute();
    stopping = true;
    for (const t of timers) clearInterval(t);
    write('completed', true);
  } finally {
    for (const t of timers) clearInterval(t);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stopping = true;
    for (const p of players) await p.stop();
    await (publisher as ManagedProcess | null)?.stop('SIGTERM', 5000);
    await net.stop();
  }
}
