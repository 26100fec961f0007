import type { AgentEvent } from '@astral/contracts';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import {
  LocalNetwork,
  astralBin,
  freePort,
  sampleFlvPath,
  startLocalNetwork,
  waitFor,
  withLogsOnFailure,
} from '@astral/testing';
import { FlvFilePublisher } from '@astral/media';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (`node bin/astral.js …`) and returns its exit code and output. */
function astral(args: string[], timeoutMs = 40_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [astralBin(), ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : -1
        : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `astral node <args> --node <api> --data-dir <dir> --json`, expecting exit 0 and JSON on stdout. */
async function nodeJson<T>(target: string[], ...args: string[]): Promise<T> {
  const r = await astral(['node', ...args, ...target, '--json']);
  if (r.code !== 0) throw new Error(`astral node ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('astral node … (control a running node through its local API)', () => {
  let net: LocalNetwork;
  let publisher: FlvFilePublisher | null = null;
  const eventClients: ChildProcess[] = [];
  let streamId: string;

  beforeAll(async () => {
    net = await startLocalNetwork({ nodes: [{}, {}] });
  }, 200_000);

  afterAll(async () => {
    for (const p of eventClients) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await publisher?.stop().catch(() => undefined);
    await net?.stop();
  }, 60_000);

  /** --node and --data-dir of node i: the CLI reads the node's API token from its data directory. */
  const api = (i: number): string[] => ['--node', net.nodes[i].apiUrl, '--data-dir', net.nodes[i].dataDir];

  const step = (fn: () => Promise<void>): Promise<void> => withLogsOnFailure(() => net.logs(3000), fn);

  it(
    'status: the node id, as JSON and as a table',
    () =>
      step(async () => {
        const status = await nodeJson<{ nodeId: string; role: string }>(api(0), 'status');
        expect(status.nodeId).toBe(net.nodes[0].nodeId);
        const human = await astral(['node', 'status', ...api(0)]);
        expect(human.code).toBe(0);
        expect(human.stdout).toContain(net.nodes[0].nodeId);
        expect(human.stdout).toContain('upload limit');
      }),
    40_000,
  );

  it(
    'settings: changes the upload limit to 3mbit, then back',
    () =>
      step(async () => {
        const before = await nodeJson<{ uploadLimitBps: number | null; maxChildren: number }>(
          api(0),
          'settings',
        );
        const changed = await nodeJson<{ uploadLimitBps: number | null }>(
          api(0),
          'settings',
          '--upload-limit',
          '3mbit',
        );
        expect(changed.uploadLimitBps).toBe(3_000_000);
        const back = before.uploadLimitBps === null ? 'unlimited' : String(before.uploadLimitBps);
        const restored = await nodeJson<{ uploadLimitBps: number | null; maxChildren: number }>(
          api(0),
          'settings',
          '--upload-limit',
          back,
        );
        expect(restored).toEqual(before);
      }),
    40_000,
  );

  it(
    'publish: creates a stream that takes the sample file at its publish URL',
    () =>
      step(async () => {
        const created = await nodeJson<{
          streamId: string;
          publishUrl: string;
          obs: { server: string; streamKey: string };
        }>(api(0), 'publish', '--title', 'CLI test', '--description', 'published by cli-node.e2e-spec');
        expect(created.streamId).toMatch(/^[a-z0-9-]+$/);
        expect(created.obs.server).toMatch(/^rtmp:\/\//);
        streamId = created.streamId;
        publisher = new FlvFilePublisher({ file: sampleFlvPath(), url: created.publishUrl });
        await publisher.start();
        const streams = await nodeJson<{ streamId: string; origin: string }[]>(api(0), 'streams');
        expect(streams).toEqual(
          expect.arrayContaining([expect.objectContaining({ streamId, origin: 'publish' })]),
        );
      }),
    40_000,
  );

  it(
    'watch from node 2 pulls from node 1; node 1 shows one confirmed outgoing ticket; stop ends it',
    () =>
      step(async () => {
        // The stream turns live once the relay has the first frames.
        const watch = await waitFor(
          async () => {
            const r = await astral(['node', 'watch', streamId, ...api(1), '--json']);
            return r.code === 0 ? (JSON.parse(r.stdout) as { upstreamNodeId: string; hops: number }) : null;
          },
          { timeoutMs: 20_000, intervalMs: 500, what: 'node 2 to watch the stream' },
        );
        expect(watch.upstreamNodeId).toBe(net.nodes[0].nodeId);
        expect(watch.hops).toBe(1);

        const tickets = await waitFor(
          async () => {
            const t = await nodeJson<{
              outgoing: { state: string; requesterId: string; streamId: string }[];
            }>(api(0), 'tickets');
            return t.outgoing.length === 1 && t.outgoing[0].state === 'confirmed' ? t : null;
          },
          { timeoutMs: 10_000, intervalMs: 300, what: 'a confirmed outgoing ticket on node 1' },
        );
        expect(tickets.outgoing[0]).toMatchObject({
          streamId,
          requesterId: net.nodes[1].nodeId,
          state: 'confirmed',
        });
        const human = await astral(['node', 'tickets', ...api(0)]);
        expect(human.stdout).toContain('confirmed');

        const stopped = await nodeJson<{ stopped: boolean }>(api(1), 'stop', streamId);
        expect(stopped.stopped).toBe(true);
        expect(await nodeJson<unknown[]>(api(1), 'streams')).toEqual([]);
      }),
    40_000,
  );

  it(
    'errors: prints the API message and exits 1; an unreachable node names the URL and `astral node start`',
    () =>
      step(async () => {
        const unknown = await astral(['node', 'watch', 'no-such-stream', ...api(1), '--json']);
        expect(unknown.code).toBe(1);
        expect(unknown.stdout).toBe('');
        expect(unknown.stderr).toMatch(/^astral node watch: .*no-such-stream/);
        expect(unknown.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace

        const notWatching = await astral(['node', 'stop', streamId, ...api(1)]);
        expect(notWatching.code).toBe(1);
        expect(notWatching.stderr).toContain(`this node is not watching ${streamId}`);

        const nobody = `http://127.0.0.1:${await freePort()}`;
        const refused = await astral(['node', 'status', '--node', nobody]);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(nobody);
        expect(refused.stderr).toContain('astral node start');
      }),
    40_000,
  );

  /** `astral node events --json` as a child process, collecting its lines. */
  function followEvents(target: string[]): {
    proc: ChildProcess;
    lines: () => string[];
    stderr: () => string;
    exited: Promise<number | null>;
  } {
    const proc = spawn(process.execPath, [astralBin(), 'node', 'events', ...target, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    eventClients.push(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    return { proc, lines: () => stdout.split('\n').filter((l) => l.trim()), stderr: () => stderr, exited };
  }

  it(
    'events --json: one JSON event per line while node 2 watches again',
    () =>
      step(async () => {
        const atNode1 = followEvents(api(0));
        const atNode2 = followEvents(api(1));
        for (const f of [atNode1, atNode2]) {
          await waitFor(() => f.stderr().includes('following'), {
            timeoutMs: 10_000,
            what: `the events client to connect (stderr: ${f.stderr()})`,
          });
        }

        await nodeJson(api(1), 'watch', streamId);

        // Node 1 gives node 2 a ticket: an outgoing ticket-created event.
        const node1Events = await waitFor(
          () => {
            const events = atNode1.lines().map((l) => JSON.parse(l) as AgentEvent);
            return events.some((e) => e.type === 'ticket-created') ? events : null;
          },
          { timeoutMs: 10_000, what: 'ticket-created on node 1' },
        );
        expect(node1Events.find((e) => e.type === 'ticket-created')).toMatchObject({
          streamId,
          direction: 'outgoing',
          peerId: net.nodes[1].nodeId,
        });

        // Node 2, the watcher, reports its own side of the watch (its incoming ticket, the stream going live there).
        const node2Lines = await waitFor(() => (atNode2.lines().length > 0 ? atNode2.lines() : null), {
          timeoutMs: 8000,
          what: 'a first event on node 2 (the watching node)',
        });
        const node2Events = node2Lines.map((l) => JSON.parse(l) as AgentEvent);
        expect(typeof node2Events[0].type).toBe('string');
        expect(typeof node2Events[0].at).toBe('string');
        expect(node2Events.some((e) => 'streamId' in e && e.streamId === streamId)).toBe(true);

        for (const f of [atNode1, atNode2]) {
          f.proc.kill('SIGINT');
          expect(await f.exited).toBe(0);
        }
        await nodeJson(api(1), 'stop', streamId);
      }),
    40_000,
  );
});
