import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import Table from 'cli-table3';
import { makeTempDir, removeTempDir, sleep } from '@astral/testing';
import { testFlv } from './lib/flv-fixture';
import { PlayerPool, PoolTarget } from './lib/player-pool';
import { cpuSeconds, rssMbSync } from './lib/proc-sampler';
import { parseFlags } from './lib/report';
import { startRelayTestbed } from './lib/relay-testbed';
import { numberList } from './fanout/figures';
import { STREAM, ServerUnderTest, astralServer, nginxServer } from './fanout/servers';
import { nginxAvailable } from './peers/nginx-rtmp';
import { DEFAULT_LIMITS, StepFigures, ladderResult, stepFigures } from './players/verdict';

const pin = (pid: number, cpus: string): void => {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
};

/** Climbs the ladder on one server: adds players up to each step, measures, stops at the first unclean step. */
async function ladder(
  server: ServerUnderTest,
  target: PoolTarget,
  o: { steps: number[]; seconds: number; processes: number; kbps: number },
  log: (line: string) => void,
): Promise<StepFigures[]> {
  const pool = new PlayerPool(o.processes, '1');
  const out: StepFigures[] = [];
  let open = 0;
  let openFailures = 0;
  try {
    for (const n of o.steps) {
      const r = await pool.open(
        Array.from({ length: n - open }, () => target),
        true,
      );
      open = n;
      openFailures += r.failed;
      await sleep(3000); // past the joins' GOP bursts
      const s0 = await pool.snapshot(true);
      const cpu0 = cpuSeconds(server.pid);
      const t0 = performance.now();
      let rss = 0;
      while (performance.now() - t0 < o.seconds * 1000) {
        await sleep(500);
        rss = Math.max(rss, rssMbSync(server.pid));
      }
      const window = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(server.pid) - cpu0;
      const s1 = await pool.snapshot(true);
      const f = stepFigures(
        {
          players: n,
          bytes: s1.bytes.map((b, i) => b - (s0.bytes[i] ?? 0)),
          lagMs: s1.lagMs,
          ended: s1.ended,
          openFailures,
          seconds: window,
          expectedBytes: ((o.kbps * 1000) / 8) * window,
          cpuPercent: (100 * cpu) / window,
          clientCpuPercent: (100 * (s1.cpuSeconds - s0.cpuSeconds)) / window,
          rssMb: rss,
        },
        DEFAULT_LIMITS,
      );
      out.push(f);
      log(
        `players: ${server.name} ${n}: ${f.ok ? 'clean' : f.reasons.join(', ')}; CPU ${f.cpuPercent.toFixed(0)} %, ` +
          `clients ${f.clientCpuPercent.toFixed(0)} %, delivered min ${f.deliveredMin.toFixed(3)}, max lag ${f.maxLagMs.toFixed(0)} ms`,
      );
      if (!f.ok) break;
    }
    return out;
  } finally {
    await pool.closePlayers().catch(() => undefined);
    pool.stop();
  }
}

/**
 * `npm run bench -- players [--steps 250,500,1000,2000,3000,4000,6000] [--seconds S] [--client-processes N]
 *   [--kbps 600] [--json FILE]`: the most players one server pinned to core 0 serves at 600 kbit/s with no
 * drops, no lag over 1 s and its core not saturated. Astral: one relay process (taskset on all its threads),
 * HTTP-FLV players at /live/<id>.flv of its HTTP port; nginx-rtmp (master and worker pinned the same way),
 * RTMP players. The players are raw sockets counting bytes and tag timestamps, spread over N client
 * processes pinned to core 1 with this process and the publishers.
 */
export async function playersBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const steps = numberList(flags.get('steps') ?? '250,500,1000,2000,3000,4000,6000', 'steps');
  const seconds = Number(flags.get('seconds') ?? 10);
  const processes = Number(flags.get('client-processes') ?? 3);
  const input = testFlv(Number(flags.get('kbps') ?? 600));
  const missing = nginxAvailable();
  if (missing) throw new Error(missing);
  pin(process.pid, '1');
  const o = { steps, seconds, processes, kbps: input.measuredKbps };
  const log = (line: string): void => console.log(line);
  const tmp = makeTempDir('astral-players-');
  const bed = await startRelayTestbed();
  const servers: ServerUnderTest[] = [];
  try {
    const astral = await astralServer(bed, 'players', input.file);
    servers.push(astral);
    for (const p of astral.pids) pin(p, '0');
    const a = await ladder(astral, { url: astral.relay.httpFlvUrl(STREAM), protocol: 'flv' }, o, log);
    await astral.stop();
    const nginx = await nginxServer(tmp, 'players-nginx', input.file);
    servers.push(nginx);
    for (const p of nginx.pids) pin(p, '0');
    for (const p of nginx.helperPids) pin(p, '1');
    const n = await ladder(nginx, { url: nginx.nginx.rtmpUrl(STREAM), protocol: 'rtmp' }, o, log);
    const aResult = ladderResult(a);
    const nResult = ladderResult(n);
    const result = {
      input: `generated FLV, ${input.measuredKbps.toFixed(0)} kbit/s measured (bench/lib/flv-fixture.ts), in real time`,
      seconds,
      clientProcesses: processes,
      limits: DEFAULT_LIMITS,
      astral: { ...aResult, what: 'one relay process on core 0, HTTP-FLV players' },
      nginx: { ...nResult, what: 'nginx-rtmp master and worker on core 0, RTMP players' },
      /** Astral's most players ÷ nginx-rtmp's (higher is better). */
      ratio: aResult.maxPlayers / nResult.maxPlayers,
      steps: steps
        .filter((_, i) => a[i] || n[i])
        .map((players, i) => ({ players, astral: a[i] ?? null, nginx: n[i] ?? null })),
    };
    printSteps(result.steps);
    console.log(JSON.stringify(result));
    if (flags.get('json')) writeFileSync(flags.get('json')!, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
    await bed.stop();
    removeTempDir(tmp);
  }
}

function printSteps(
  steps: { players: number; astral: StepFigures | null; nginx: StepFigures | null }[],
): void {
  const cell = (f: StepFigures | null): string =>
    f
      ? `${f.ok ? 'clean' : f.reasons.join('+')} · CPU ${f.cpuPercent.toFixed(0)} % · clients ${f.clientCpuPercent.toFixed(0)} % · lag ${f.maxLagMs.toFixed(0)} ms · min ${f.deliveredMin.toFixed(2)}`
      : '—';
  const t = new Table({ head: ['players', 'Astral', 'nginx-rtmp'] });
  for (const s of steps) t.push([String(s.players), cell(s.astral), cell(s.nginx)]);
  console.log(t.toString());
}
