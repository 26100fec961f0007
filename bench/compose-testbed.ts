/**
 * The compose testbed, timed:
 *   npm run bench -- compose [--nodes 10] [--layout combined] [--upload-limit 2.5mbit] [--base-port 28000] [--json FILE]
 *
 * Writes the file with `astral testbed compose`, runs `podman-compose up -d`, and measures:
 * - startMs: from `up -d` until every node plays the stream (its /api/status carries it from node 1, and
 *   ffprobe decodes video and audio from its HTTP-FLV port on 127.0.0.1);
 * - recovery: the node with the most descendants in the forward tree (node 1 excepted) is stopped with
 *   `podman stop -t 0` (SIGKILL); reattachMs is until every descendant pulls from a live upstream again
 *   (not the stopped node), playingMs until each of them also plays again (the slowest descendant).
 * Then `podman-compose down -v`. Needs the images (docker/build-image.sh, docker/build-redis-image.sh),
 * podman-compose and CONTAINERS_CONF (default .astral/containers.conf). The default layout is `combined`,
 * the one podman-compose 1.0.3 (Debian bookworm) can run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffprobe, httpJson, sleep } from '@astral/testing';
import { parseFlags, report } from './lib/report';

interface Carried {
  streamId: string;
  path: string[];
  upstreamNodeId: string | null;
}
interface Status {
  nodeId: string;
  streams: Carried[];
}

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
    httpJson<Status>('GET', `${api(k)}/api/status`, undefined, { timeoutMs: 3000 }).catch(() => null);
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
        for (const k of ks.filter((x) => !plays.has(x))) {
          const s = await status(k);
          const c = s?.streams.find((x) => x.streamId === streamId);
          if (c && (k === 1 || c.upstreamNodeId) && (await playing(flv(k, streamId)))) plays.add(k);
        }
      }
      if (plays.size < nodes) await sleep(1000);
    }
    const startMs = Date.now() - t0;
    console.error(JSON.stringify({ nodes, upReturnedMs, startMs }));

    // The tree now, and the interior node with the most descendants.
    const statuses = new Map<number, Status>();
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
    const t1 = Date.now();
    sh('podman', ['stop', '-t', '0', name]);
    const stopMs = Date.now() - t1;
    // Per descendant: when it pulls from a live upstream again, and when it plays again.
    const reattached = new Map<number, number>();
    const again = new Map<number, number>();
    const lastPath = new Map<number, string[]>();
    while (again.size < orphans.length && Date.now() - t1 < 120_000) {
      for (const k of orphans.filter((x) => !again.has(x))) {
        const c = (await status(k))?.streams.find((x) => x.streamId === streamId);
        if (c) lastPath.set(k, c.path);
        if (!reattached.has(k) && c?.upstreamNodeId && c.upstreamNodeId !== idOf(victim))
          reattached.set(k, Date.now() - t1);
        if (reattached.has(k) && (await playing(flv(k, streamId)))) again.set(k, Date.now() - t1);
      }
      if (again.size < orphans.length) await sleep(250);
    }
    const name1 = (id: string) => `node${ks.find((k) => idOf(k) === id) ?? '?'}`;
    const reattachMs = reattached.size === orphans.length ? Math.max(...reattached.values()) : null;
    const playingMs = again.size === orphans.length ? Math.max(...again.values()) : null;
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
        perNode: Object.fromEntries(
          orphans.map((k) => [
            `node${k}`,
            { reattachMs: reattached.get(k) ?? null, playingMs: again.get(k) ?? null },
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
