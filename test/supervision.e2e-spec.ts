import type { NodeStatus, PublishReply } from '@astral/contracts';
import { execFileSync } from 'node:child_process';
import {
  LocalNetwork,
  ffprobe,
  ManagedProcess,
  freePort,
  httpJson,
  makeTempDir,
  processAlive,
  removeTempDir,
  sampleFlvPath,
  spawnAstral,
  startLocalNetwork,
  startRedis,
  waitFor,
  WaitAbortedError,
  withLogsOnFailure,
  agentApi,
} from '@astral/testing';
import { FlvFilePublisher } from '@astral/media';
import { receives } from '../apps/cli/src/commands/demo.command';

/** The agent and relay children of an `astral node start` process, read from the process table. */
function halves(nodePid: number): { agent?: number; relay?: number } {
  let out: string;
  try {
    out = execFileSync('ps', ['--ppid', String(nodePid), '-o', 'pid=,args='], { encoding: 'utf8' });
  } catch {
    return {}; // ps exits 1 when there is no child
  }
  const found: { agent?: number; relay?: number } = {};
  for (const line of out.trim().split('\n')) {
    const m = /^\s*(\d+)\s+.*astral\.js (agent|relay)\s*$/.exec(line);
    if (m) found[m[2] as 'agent' | 'relay'] = Number(m[1]);
  }
  return found;
}

describe('astral node start supervises its halves', () => {
  let net: LocalNetwork;
  let publisher: FlvFilePublisher | null = null;

  beforeAll(async () => {
    net = await startLocalNetwork({ nodes: [{}] });
  }, 200_000);

  afterAll(async () => {
    await publisher?.stop().catch(() => undefined);
    await net?.stop();
  }, 60_000);

  const node = () => net.nodes[0];
  const healthz = () => `http://127.0.0.1:${node().ports.forward}/healthz`;
  const step = (fn: () => Promise<void>): Promise<void> => withLogsOnFailure(() => net.logs(6000), fn);

  it(
    'prints a summary once both halves are ready: node id, API URL and ports',
    () =>
      step(async () => {
        const log = await waitFor(
          () => (/ready: node /.test(node().process.readLog()) ? node().process.readLog() : null),
          {
            timeoutMs: 10_000,
            what: 'the node summary',
          },
        );
        expect(log).toContain(`astral node: ready: node ${node().nodeId}`);
        expect(log).toContain(`API        ${node().apiUrl}`);
        expect(log).toContain(`rtmp://127.0.0.1:${node().ports.rtmp}/live/<streamId>`);
        expect(log).toContain(`http://127.0.0.1:${node().ports.http}/live/<streamId>.flv`);
        expect(log).toContain(`forward    127.0.0.1:${node().ports.forward}`);
      }),
    20_000,
  );

  it(
    'restarts a SIGKILLed relay; the agent keeps its API and replays the publish key to the new relay',
    () =>
      step(async () => {
        const created = await agentApi<PublishReply>(node(), 'POST', `/api/streams`, {
          title: 'supervised',
        });
        const before = halves(node().process.pid!);
        expect(before.agent).toBeDefined();
        expect(before.relay).toBeDefined();
        process.kill(before.relay!, 'SIGKILL');

        const after = await waitFor(
          async () => {
            const h = halves(node().process.pid!);
            if (!h.relay || h.relay === before.relay) return null;
            const ok = await fetch(healthz(), { signal: AbortSignal.timeout(1000) }).then(
              (r) => r.ok,
              () => false,
            );
            return ok ? h : null;
          },
          { timeoutMs: 30_000, intervalMs: 200, what: 'a new relay answering /healthz' },
        );
        expect(node().process.running).toBe(true);
        expect(after.agent).toBe(before.agent);
        const status = await httpJson<NodeStatus>('GET', `${node().apiUrl}/api/status`);
        expect(status.nodeId).toBe(node().nodeId);
        // The supervisor says so once its own readiness probe of the new relay answers (it may lag ours).
        await waitFor(() => /the relay is back \(restart 1/.test(node().process.readLog(200_000)), {
          timeoutMs: 10_000,
          what: 'the supervisor to report the relay back',
        });
        expect(node().process.readLog(200_000)).toContain('the relay died (signal SIGKILL)');

        // The stream was authorised on the old relay; the new one learnt its key from the agent's replay.
        publisher = await waitFor(
          async () => {
            const p = new FlvFilePublisher({ file: sampleFlvPath(), url: created.publishUrl });
            p.on('error', () => undefined);
            try {
              await p.start();
              return p;
            } catch {
              await p.stop().catch(() => undefined);
              return null;
            }
          },
          { timeoutMs: 15_000, intervalMs: 500, what: 'the restarted relay to take the publish' },
        );
        expect(await receives(node().playUrls(created.streamId).httpFlv)).toBe(true);
        await publisher.stop();
        publisher = null;
      }),
    90_000,
  );

  it(
    'restarts a SIGKILLed agent, which registers again; the relay keeps running',
    () =>
      step(async () => {
        const before = halves(node().process.pid!);
        process.kill(before.agent!, 'SIGKILL');
        const after = await waitFor(
          async () => {
            const h = halves(node().process.pid!);
            if (!h.agent || h.agent === before.agent) return null;
            // 200 only once the new agent is registered with the directory again.
            return (await httpJson<NodeStatus>('GET', `${node().apiUrl}/api/status`).catch(() => null))
              ? h
              : null;
          },
          { timeoutMs: 40_000, intervalMs: 300, what: 'a new agent registered and answering /api/status' },
        );
        expect(after.relay).toBe(before.relay);
        expect(node().process.readLog(200_000)).toContain('the agent died (signal SIGKILL)');
      }),
    60_000,
  );

  it(
    'on SIGTERM the node stops cleanly: exit 0, and no agent or relay is left',
    () =>
      step(async () => {
        const children = halves(node().process.pid!);
        expect(children.agent && children.relay).toBeTruthy();
        const exit = await node().stop(30_000);
        expect(exit).toEqual({ code: 0, signal: null });
        await waitFor(() => !processAlive(children.agent!) && !processAlive(children.relay!), {
          timeoutMs: 5000,
          what: 'both halves gone',
        });
      }),
    45_000,
  );
});

describe('astral demo when a node dies', () => {
  let demo: ManagedProcess | null = null;
  let logDir: string;
  afterAll(async () => {
    await demo?.stop('SIGTERM', 30_000);
    if (logDir) removeTempDir(logDir);
  }, 40_000);

  it('says which node died and why, keeps the rest running, and ends only at --duration', async () => {
    logDir = makeTempDir('astral-sv-demo-');
    const log = `${logDir}/demo.log`;
    demo = spawnAstral('demo', ['demo', '--nodes', '2', '--duration', '70'], { logFile: log });
    const d = demo;
    const text = (): string => d.readLog(200_000);
    await waitFor(
      () => (d.running ? /Running for 70 s/.test(text()) : Promise.reject(new WaitAbortedError(text()))),
      {
        timeoutMs: 40_000,
        what: 'the demo to be running',
      },
    );
    const nodeStarts = execFileSync('ps', ['--ppid', String(d.pid), '-o', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .map((l) => /^\s*(\d+)\s+.*node start .*data[/](node\d)\b/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null);
    const pidOf = (name: string): number => Number(nodeStarts.find((m) => m[2] === name)![1]);
    process.kill(halves(pidOf('node1')).relay!, 'SIGKILL');
    await waitFor(
      () =>
        /node1: the relay died \(signal SIGKILL\)/.test(text()) && /node1: the relay is back/.test(text()),
      {
        timeoutMs: 20_000,
        what: "the demo to report node1's relay restart",
      },
    );
    // A watcher's relay restarted: its agent opens the pull again on the ticket it holds, and it plays.
    const node2Flv = /ffplay (http:\/\/\S+\.flv)/.exec(text())![1];
    process.kill(halves(pidOf('node2')).relay!, 'SIGKILL');
    await waitFor(() => /node2: the relay is back/.test(text()), {
      timeoutMs: 20_000,
      what: "node2's relay to be restarted",
    });
    await waitFor(
      async () =>
        (
          await ffprobe(node2Flv, { readSeconds: 1, timeoutMs: 8000 }).catch(() => ({ streams: [] }))
        ).streams.some((st) => st.codec_name === 'h264'),
      { timeoutMs: 20_000, intervalMs: 500, what: "node2 to play again after its relay's restart" },
    );
    process.kill(-pidOf('node2'), 'SIGKILL');
    await waitFor(
      () =>
        /node2 \(node [0-9a-f-]+\) stopped \(killed by SIGKILL\); the rest of the network keeps running/.test(
          text(),
        ),
      {
        timeoutMs: 10_000,
        what: "the demo to report node2's death",
      },
    );
    expect(d.running).toBe(true);
    const exit = await d.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(text()).toContain('astral demo: stopped; temp files removed');
  }, 120_000);
});

describe('astral agent with Redis unreachable', () => {
  const dirs: string[] = [];
  const procs: ManagedProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL', 5000)));
    for (const d of dirs) removeTempDir(d);
  });

  const agent = async (redisUrl: string): Promise<ManagedProcess> => {
    const dir = makeTempDir('astral-sv-agent-');
    dirs.push(dir);
    const logFile = `${dir}/agent.log`;
    const p = spawnAstral(
      'agent',
      ['agent', '--redis', redisUrl, '--data-dir', `${dir}/data`, '--api-port', String(await freePort())],
      { logFile },
    );
    procs.push(p);
    return p;
  };

  it('fails fast, naming the URL (without its password) and what to do', async () => {
    const port = await freePort(); // nothing listens there
    const started = Date.now();
    const p = await agent(`redis://astral:hunter2@127.0.0.1:${port}/0`);
    const exit = await p.exited;
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(exit.code).toBe(1);
    const log = p.readLog(200_000);
    expect(log).toContain(
      `astral agent: failed to start: could not connect to Redis at redis://127.0.0.1:${port}/0`,
    );
    expect(log).toContain('REDIS_URL / --redis');
    expect(log).not.toContain('hunter2');
  }, 30_000);

  it('the twin: with a reachable Redis the same command starts and serves its API', async () => {
    const redis = await startRedis();
    try {
      const p = await agent(redis.url);
      const apiPort = Number(p.args[p.args.indexOf('--api-port') + 1]);
      await waitFor(
        async () => {
          if (!p.running) throw new WaitAbortedError(`the agent exited: ${p.readLog(4000)}`);
          return fetch(`http://127.0.0.1:${apiPort}/api/status`, { signal: AbortSignal.timeout(1000) }).then(
            () => true,
            () => false,
          );
        },
        { timeoutMs: 40_000, what: 'the agent API' },
      );
      expect(await p.stop('SIGTERM', 20_000)).toEqual({ code: 0, signal: null });
    } finally {
      await redis.stop();
    }
  }, 60_000);
});
