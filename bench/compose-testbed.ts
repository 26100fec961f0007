/**
 * The compose testbed, timed:
 *   npm run bench -- compose [--nodes 10] [--layout combined] [--upload-limit 2.5mbit] [--base-port 28000] [--json FILE]
 *
 * Writes the file with `astral testbed compose`, runs `podman-compose up -d`, and measures:
 * - startMs: from `up -d` until every node plays the stream (its /api/status carries it from node 1, and
 *   ffprobe decodes video and audio from its HTTP-FLV port on 127.0.0.1);
 * - recovery: the node with the most descendants in the forward tree (node 1 excepted) is stopped with
 *   `podman stop -t 0` (SIGKILL). Every descendant is watched at once, each by its own loop: reattachMs is
 *   until no descendant's path runs through the stopped node (polled every 50 ms); an HTTP-FLV player
 *   opened on each descendant before the stop gives its outages (gaps of 150 ms or more between video
 *   frames from the stop on), maxGapMs (the largest) and playingMs (from the stop until video was back
 *   after the first outage, the slowest descendant); playerDisconnects counts players the stop cut off.
 * Then `podman-compose down -v`. Needs the images (docker/build-image.sh, docker/build-redis-image.sh),
 * podman-compose and CONTAINERS_CONF (default .astral/containers.conf). The default layout is `combined`,
 * the one podman-compose 1.0.3 (Debian bookworm) can run.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeStatus } from '@astral/contracts';
import { FlvTagReader, ffprobe, httpJson, sleep, waitFor } from '@astral/testing';
import { parseFlags, report } from './lib/report';

const execFileAsync = promisify(execFile);
/** A gap between video frames this long is an outage (the sample's frames are 33 ms apart). */
const OUTAGE_MS = 150;
const ROOT = join(__dirname, __filename.endsWith('.js') ? '../..' : '..');

function sh(cmd: string, args: string[], timeoutMs = 600_000): string {
  return execFileSync(cmd, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function playing(url: string): Promise<boolean> {
  const r = await ffprobe(url, { readSeconds: 2, timeoutMs: 15_000 }).catch(() => null);
  const frames = (type: string) => r?.streams.find((s) => s.codec_type === type)?.nb_read_frames ?? 0;
  return frames('video') > 10 && frames('audio') > 10;
}

export async function composeBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const nodes = Number(flags.get('nodes') ?? 10);
  const layout = flags.get('layout') ?? 'combined';
  const base = Number(flags.get('base-port') ?? 28000);
  const limit = flags.get('upload-limit') ?? '2.5mbit';
  const deadlineMs = Number(flags.get('timeout-s') ?? 600) * 1000;
  process.env.CONTAINERS_CONF ??= join(ROOT, '.astral', 'containers.conf');
  const project = `astral-bench-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'astral-compose-bench-'));
  const file = join(dir, 'compose.yaml');
  sh(
    'node',
    [
      'bin/astral.js',
      'testbed',
      'compose',
      '--nodes',
      String(nodes),
      '--layout',
      layout,
      '--upload-limit',
      limit,
    ].concat(['--base-port', String(base), '--project', project, '--out', file]),
  );
  const api = (k: number) => `http://127.0.0.1:${base + 10 * k}`;
  const flv = (k: number, streamId: string) =>
    `http://127.0.0.1:${base + 10 * k + 2}/live/${encodeURIComponent(streamId)}.flv`;
  const status = (k: number) =>
    httpJson<NodeStatus>('GET', `${api(k)}/api/status`, undefined, { timeoutMs: 3000 }).catch(() => null);
  const ks = Array.from({ length: nodes }, (_, i) => i + 1);
  const compose = (...a: string[]) => sh('podman-compose', ['-p', project, '-f', file, ...a]);

  try {
    const t0 = Date.now();
    compose('up', '-d');
    const upReturnedMs = Date.now() - t0;
    // Every node carries the stream (node 1 as its source) and plays it.
    let streamId = '';
    const plays = new Set<number>();
    while (plays.size < nodes) {
      if (Date.now() - t0 > deadlineMs)
        throw new Error(`only nodes ${[...plays].join(',')} play after ${deadlineMs} ms`);
      const s1 = await status(1);
      streamId = s1?.streams[0]?.streamId ?? '';
      if (streamId) {
        // All at once: probing one node at a time would add a 2 s ffprobe per node to the figure.
        await Promise.all(
          ks
            .filter((x) => !plays.has(x))
            .map(async (k) => {
              const c = (await status(k))?.streams.find((x) => x.streamId === streamId);
              if (c && (k === 1 || c.upstreamNodeId) && (await playing(flv(k, streamId)))) plays.add(k);
            }),
        );
      }
      if (plays.size < nodes) await sleep(1000);
    }
    const startMs = Date.now() - t0;
    console.error(JSON.stringify({ nodes, upReturnedMs, startMs }));

    // The tree now, and the interior node with the most descendants.
    const statuses = new Map<number, NodeStatus>();
    for (const k of ks) statuses.set(k, (await status(k))!);
    const idOf = (k: number) => statuses.get(k)!.nodeId;
    const pathOf = (k: number) => statuses.get(k)!.streams.find((x) => x.streamId === streamId)?.path ?? [];
    const below = (k: number) => ks.filter((j) => j !== k && pathOf(j).includes(idOf(k)));
    const victim = ks.filter((k) => k !== 1).sort((a, b) => below(b).length - below(a).length)[0];
    const orphans = below(victim);
    const depth = Math.max(...ks.map((k) => pathOf(k).length - 1));
    const name = sh('podman', [
      'ps',
      '--filter',
      `label=io.podman.compose.project=${project}`,
      '--filter',
      `label=com.docker.compose.service=node${victim}-agent`,
      '--format',
      '{{.Names}}',
    ])
      .trim()
      .split('\n')[0];
    // A player on every descendant, attached before the stop and kept across it.
    const players = new Map<number, FlvTagReader>();
    for (const k of orphans) {
      const r = await FlvTagReader.open(flv(k, streamId));
      players.set(k, r);
      await waitFor(() => r.videoFrames.some((f) => f.keyframe), {
        timeoutMs: 15_000,
        what: `a keyframe at node${k}`,
      });
    }
    const t1 = Date.now();
    const p1 = performance.now();
    // Not execFileSync: the players must keep reading (and time-stamping frames) while podman works.
    await execFileAsync('podman', ['stop', '-t', '0', name], { cwd: ROOT, timeout: 60_000 });
    const stopMs = Date.now() - t1;
    // Per descendant, each in its own loop: when its path no longer runs through the stopped node.
    const reattached = new Map<number, number>();
    const lastPath = new Map<number, string[]>();
    await Promise.all(
      orphans.map(async (k) => {
        while (!reattached.has(k) && Date.now() - t1 < 120_000) {
          const c = (await status(k))?.streams.find((x) => x.streamId === streamId);
          if (c) lastPath.set(k, c.path);
          if (c?.upstreamNodeId && c.path[0] === idOf(1) && !c.path.includes(idOf(victim)))
            reattached.set(k, Date.now() - t1);
          else await sleep(50);
        }
      }),
    );
    await sleep(3000);
    // The outages each player saw from the stop on: gaps of OUTAGE_MS or more between video frames (the
    // sample runs at 30 fps). Video is back with the first frame after the first outage (a keyframe: the
    // relay resumes a switched stream at one); a player with no outage never saw the stop.
    const outages = new Map<number, { atMs: number; gapMs: number }[]>();
    for (const k of orphans) {
      const frames = players.get(k)!.videoFrames;
      let prev = [...frames].reverse().find((f) => f.arrivalMs < p1)?.arrivalMs ?? p1;
      const seen: { atMs: number; gapMs: number }[] = [];
      for (const f of frames) {
        if (f.arrivalMs < p1) continue;
        if (f.arrivalMs - prev >= OUTAGE_MS)
          seen.push({ atMs: Math.round(prev - p1), gapMs: Math.round(f.arrivalMs - prev) });
        prev = f.arrivalMs;
      }
      outages.set(k, seen);
    }
    /** From the stop until video was back after the node's first outage (0: it saw none). */
    const backMs = (k: number): number => {
      const first = outages.get(k)![0];
      return first ? Math.max(0, first.atMs) + first.gapMs : 0;
    };
    const playerDisconnects = [...players.values()].filter((r) => r.ended).length;
    for (const r of players.values()) r.close();
    const name1 = (id: string) => `node${ks.find((k) => idOf(k) === id) ?? '?'}`;
    const reattachMs = reattached.size === orphans.length ? Math.max(...reattached.values()) : null;
    const playingMs = Math.max(0, ...orphans.map(backMs));
    const pathsAfter = orphans.map((k) => (lastPath.get(k) ?? []).map(name1).join('>'));
    report(
      'compose testbed',
      {
        nodes,
        layout,
        uploadLimit: limit,
        upReturnedMs,
        startMs,
        treeDepth: depth,
        stopped: `node${victim}`,
        orphans: orphans.map((k) => `node${k}`),
        stopMs,
        reattachMs,
        playingMs,
        maxGapMs: Math.max(0, ...[...outages.values()].flat().map((o) => o.gapMs)),
        playerDisconnects,
        perNode: Object.fromEntries(
          orphans.map((k) => [
            `node${k}`,
            { reattachMs: reattached.get(k) ?? null, playingMs: backMs(k), outages: outages.get(k) },
          ]),
        ),
        pathsAfter,
      },
      flags.get('json'),
    );
  } finally {
    // Containers first with -v: podman-compose 1.0.3's down leaves their anonymous /data volumes behind.
    const left = sh('podman', ['ps', '-aq', '--filter', `label=io.podman.compose.project=${project}`])
      .split('\n')
      .filter(Boolean);
    if (left.length > 0) sh('podman', ['rm', '-f', '-v', '-t', '0', ...left]);
    try {
      compose('down', '-v');
    } catch (err) {
      console.error(`podman-compose down failed: ${(err as Error).message.split('\n')[0]}`);
    }
    sh('podman', ['network', 'rm', '-f', `${project}_default`]);
    rmSync(dir, { recursive: true, force: true });
  }
}
