/**
 * `npm run bench -- fuzz --port rtmp|http|forward|api|directory --minutes M [--seed N] [--json FILE]
 *    [--concurrency 16] [--timeout-ms 1500] [--max-inputs N] [--max-crashes 3] [--out DIR]`
 *
 * A real network (directory + 2 nodes; node 1 publishes the sample in real time, node 2 watches it so
 * node 1 relays it) and a seeded fuzzer aimed at one port of node 1 (or the directory): real sessions
 * and requests, structured variants, byte mutations (bit flips, insert/delete, truncation, splicing,
 * length fields) and random bytes, at most `concurrency` connections at once, each closed after
 * `timeout-ms`. A crash is the target process exiting or its pid changing (a supervisor restart);
 * the inputs in flight are saved, the node is restarted, and the suspects are replayed one at a time
 * to find the culprit. Reports inputs, crashes, RSS growth of the target, and whether the stream kept
 * flowing at node 2 (tagsIn advancing during the run, video frames received after it).
 */
import { join, resolve } from 'node:path';
import {
  ManagedProcess,
  LocalNetwork,
  repoRoot,
  sleep,
  spawnManaged,
  startLocalNetwork,
  waitFor,
} from '@astral/testing';
import { receives } from '../apps/cli/src/commands/demo.command';
import { FUZZ_PORTS, FuzzInput, FuzzPort, InputGenerator, buildSeeds } from './fuzz/corpus';
import { CrashRecord, saveCulprit, saveSuspects } from './fuzz/crash-store';
import { Rng } from './fuzz/mutators';
import { Outcome, sendInput } from './fuzz/sender';
import { FlowMonitor, LiveStream, sampleTags, startStream } from './fuzz/stream-under-test';
import { FuzzTarget, crashLines } from './fuzz/target';
import { parseFlags, report } from './lib/report';

const SLOW_AT_ONCE = 2;

export async function fuzzBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const port = flags.get('port') as FuzzPort;
  if (!FUZZ_PORTS.includes(port))
    throw new Error(`--port must be one of ${FUZZ_PORTS.join(', ')} (got ${String(flags.get('port'))})`);
  const minutes = Number(flags.get('minutes') ?? 1);
  const seed = Number(flags.get('seed') ?? Date.now() % 2 ** 31);
  const concurrency = Number(flags.get('concurrency') ?? 16);
  const timeoutMs = Number(flags.get('timeout-ms') ?? 1500);
  const maxInputs = Number(flags.get('max-inputs') ?? 1_000_000);
  const maxCrashes = Number(flags.get('max-crashes') ?? 3);
  const outDir = resolve(
    flags.get('out') ??
      join(repoRoot(), '.astral', 'fuzz', `${port}-${new Date().toISOString().replace(/[:.]/g, '-')}`),
  );
  const log = (line: string): void => void process.stderr.write(`fuzz: ${line}\n`);
  log(`port ${port}, ${minutes} min, seed ${seed}; logs and crash inputs under ${outDir}`);

  const net: LocalNetwork = await startLocalNetwork({ nodes: [{}, {}], logDir: join(outDir, 'logs') });
  const [n1, n2] = net.nodes;
  let directory: ManagedProcess = net.directory;
  let stream: LiveStream | null = null;
  const flow = new FlowMonitor(n2, '');
  try {
    stream = await startStream(n1, n2);
    flow.follow(stream.streamId);
    const host = '127.0.0.1';
    const targetPort = port === 'directory' ? Number(new URL(net.directoryUrl).port) : n1.ports[port];
    const target =
      port === 'directory'
        ? new FuzzTarget('directory', () => directory, null, `${net.directoryUrl}/healthz`)
        : port === 'api'
          ? new FuzzTarget('node1 agent', () => n1.process, 'agent', `${n1.apiUrl}/api/status`)
          : new FuzzTarget(
              'node1 relay',
              () => n1.process,
              'relay',
              `http://${host}:${n1.ports.forward}/healthz`,
            );
    const rng = new Rng(seed);
    const gen = new InputGenerator(
      port,
      buildSeeds(port, { host, port: targetPort, streamId: stream.streamId, tags: sampleTags(), seed }, rng),
      rng,
    );

    await sleep(3000);
    const rssBefore = target.rssMb();
    const pidBefore = target.pid();
    flow.start();

    const replies = new Map<string, Map<Outcome, number>>();
    const inflight = new Map<number, FuzzInput>();
    const recent: { input: FuzzInput; outcome: Outcome }[] = [];
    const crashes: CrashRecord[] = [];
    let sent = 0;
    let slowActive = 0;
    let streamRestarts = 0;
    let gate: Promise<void> | null = null;
    const t0 = Date.now();
    let stopAt = t0 + minutes * 60_000;

    const restartSource = async (): Promise<void> => {
      if (port === 'directory') {
        directory = spawnManaged('directory', net.directory.args, { logFile: net.directory.logFile });
        await waitFor(() => target.healthy(), { timeoutMs: 60_000, what: 'the restarted directory' });
        return;
      }
      await stream?.publisher.stop().catch(() => undefined);
      await n1.start();
      stream = await startStream(n1, n2);
      streamRestarts++;
      flow.follow(stream.streamId);
    };
    const recover = async (): Promise<void> => {
      if (!target.parentRunning()) return restartSource();
      await waitFor(() => target.healthy(), {
        timeoutMs: 60_000,
        what: `${target.name} back after a restart`,
      });
      // A supervised relay restart cuts the publisher's upload: publish a new stream to go on fuzzing a node that relays one.
      await sleep(1000);
      if (port !== 'directory' && stream?.publishError) {
        await stream.publisher.stop().catch(() => undefined);
        stream = await startStream(n1, n2);
        streamRestarts++;
        flow.follow(stream.streamId);
      }
    };

    let signature = target.signature();
    let logOffset = target.logSize();
    let handling = false;
    const onCrash = async (): Promise<void> => {
      handling = true;
      let release!: () => void;
      gate = new Promise<void>((r) => (release = r));
      const seen = new Set<number>();
      const suspects = [
        ...inflight.values(),
        ...recent.filter((r) => r.outcome !== 'refused').map((r) => r.input),
      ]
        .sort((a, b) => b.n - a.n)
        .filter((i) => !seen.has(i.n) && seen.add(i.n))
        .slice(0, 32);
      await sleep(500);
      const stack = crashLines(target.logSince(logOffset));
      const dir = join(outDir, `crash-${crashes.length + 1}`);
      saveSuspects(dir, suspects, stack);
      const record: CrashRecord = {
        afterInputs: sent,
        atSeconds: (Date.now() - t0) / 1000,
        exit: target.exitStatus(),
        stack,
        dir,
        suspects: suspects.length,
        culprit: null,
      };
      crashes.push(record);
      log(
        `CRASH ${crashes.length} after ${sent} inputs (${record.exit}); ${suspects.length} suspects saved in ${dir}`,
      );
      for (const line of stack.slice(0, 12)) log(`  | ${line}`);
      try {
        await recover();
        for (const s of suspects.slice(0, 24)) {
          const before = target.signature();
          const offset = target.logSize();
          await sendInput(host, targetPort, s.bytes, false, { timeoutMs: 1000 });
          await sleep(700);
          if (target.signature() === before) continue;
          await sleep(300);
          const culpritStack = crashLines(target.logSince(offset));
          record.culprit = {
            n: s.n,
            label: s.label,
            how: s.how,
            ops: s.ops,
            file: saveCulprit(dir, s, culpritStack),
            stack: culpritStack,
          };
          log(
            `  culprit: input ${s.n} (${s.how}: ${s.label}${s.ops.length ? ` + ${s.ops.join(',')}` : ''}), saved as ${record.culprit.file}`,
          );
          await recover();
          break;
        }
        if (!record.culprit) log('  no single suspect crashed it again when replayed alone');
      } catch (err) {
        log(`  could not recover the target: ${(err as Error).message}; stopping`);
        stopAt = Date.now();
      }
      if (crashes.length >= maxCrashes) {
        log(`${crashes.length} crashes: stopping (--max-crashes ${maxCrashes})`);
        stopAt = Date.now();
      }
      signature = target.signature();
      logOffset = target.logSize();
      gate = null;
      release();
      handling = false;
    };
    const watcher = setInterval(() => {
      if (!handling && target.signature() !== signature) void onCrash();
    }, 250);

    const worker = async (): Promise<void> => {
      while (Date.now() < stopAt && sent < maxInputs) {
        if (gate) {
          await gate;
          continue;
        }
        let input = gen.next();
        while (input.slow && slowActive >= SLOW_AT_ONCE) input = gen.next();
        sent++;
        inflight.set(input.n, input);
        if (input.slow) slowActive++;
        const holdMs = input.slow ? Math.max(timeoutMs, Math.min(10_000, stopAt - Date.now())) : timeoutMs;
        const outcome = await sendInput(host, targetPort, input.bytes, input.slow, { timeoutMs: holdMs });
        if (input.slow) slowActive--;
        inflight.delete(input.n);
        recent.push({ input, outcome });
        if (recent.length > 32) recent.shift();
        const byHow = replies.get(input.how) ?? new Map<Outcome, number>();
        byHow.set(outcome, (byHow.get(outcome) ?? 0) + 1);
        replies.set(input.how, byHow);
      }
    };
    let rssPeak = rssBefore;
    const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, target.rssMb() || 0)), 1000);
    const progress = setInterval(
      () => log(`${sent} inputs, ${crashes.length} crashes, ${((Date.now() - t0) / 1000).toFixed(0)} s`),
      15_000,
    );
    await Promise.all(Array.from({ length: concurrency }, worker));
    clearInterval(progress);
    clearInterval(rssTimer);
    while (handling) await sleep(200);
    clearInterval(watcher);
    const fuzzSeconds = (Date.now() - t0) / 1000;

    await sleep(3000);
    flow.stop();
    const rssAfter = target.rssMb();
    const healthyAfter = await target.healthy();
    const current = stream;
    const receivedAfter = await receives(n2.playUrls(current.streamId).httpFlv, 25, 20_000);
    const streamKeptFlowing = receivedAfter && flow.maxStallMs <= 3000 && streamRestarts === 0;
    for (const c of crashes) {
      log(
        `crash after ${c.afterInputs} inputs: ${c.exit}; culprit ${c.culprit ? `${c.culprit.label} (${c.culprit.file})` : 'not isolated'}; inputs in ${c.dir}`,
      );
    }
    report(
      `fuzz ${port}`,
      {
        port,
        seed,
        minutes,
        seconds: fuzzSeconds,
        inputs: sent,
        inputsPerSecond: sent / fuzzSeconds,
        crashes: crashes.length,
        rssGrowthMb: rssAfter - rssBefore,
        streamKeptFlowing,
        target: target.name,
        rssMb: { before: rssBefore, peak: rssPeak, after: rssAfter, samePid: pidBefore === target.pid() },
        healthyAfter,
        streamFlow: {
          samplesAtNode2: flow.samples,
          advancing: flow.advancing,
          maxStallMs: flow.maxStallMs,
          receivedAfter,
          sourceRestarts: streamRestarts,
        },
        replies: Object.fromEntries(
          [...replies].map(([how, m]) => [how, Object.fromEntries([...m].sort((a, b) => b[1] - a[1]))]),
        ),
        crashDetails: crashes.map((c) => ({
          afterInputs: c.afterInputs,
          exit: c.exit,
          error: c.stack.find((l) => /Error/.test(l)) ?? c.stack[0] ?? '',
          culprit: c.culprit?.label ?? null,
          culpritFile: c.culprit?.file ?? null,
          dir: c.dir,
        })),
        outDir,
      },
      flags.get('json'),
    );
  } finally {
    flow.stop();
    await stream?.publisher.stop().catch(() => undefined);
    if (directory !== net.directory) await directory.stop('SIGTERM', 10_000);
    await net.stop();
  }
}
