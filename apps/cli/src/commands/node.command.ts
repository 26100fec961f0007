import { Command } from 'commander';
import {
  Logger,
  NODE_ENV,
  NodeConfig,
  createLogger,
  installProcessPolicy,
  loadConfig,
  loadOrCreateApiToken,
  nodeIdFor,
  urlHost,
} from '@astral/config';
import { hlsPlaylistPath, llHlsPlaylistPath } from '@astral/contracts';
import { ManagedProcess, ProcessExit, astralBin, spawnManaged } from '@astral/testing';
import { restartDelay, runService } from '../lifecycle';
import { errorMessage } from '../output';
import { NODE_FLAGS, addFlags, envFromFlags } from './node-options';
import { addNodeControlCommands } from './node-control.command';

export function relayCommand(): Command {
  return addFlags(new Command('relay').description("run a node's relay (data plane)"), NODE_FLAGS).action(
    async (opts: Record<string, unknown>) => {
      const env = envFromFlags(NODE_FLAGS, opts);
      await runService(
        'relay',
        async () => (await import('../../../relay/src/main')).startRelay(env),
        serviceOptions(env),
      );
    },
  );
}

export function agentCommand(): Command {
  return addFlags(
    new Command('agent').description("run a node's agent (control plane and local API)"),
    NODE_FLAGS,
  ).action(async (opts: Record<string, unknown>) => {
    const env = envFromFlags(NODE_FLAGS, opts);
    await runService(
      'agent',
      async () => (await import('../../../node-agent/src/main')).startAgent(env),
      serviceOptions(env),
    );
  });
}

function serviceOptions(env: NodeJS.ProcessEnv): { redisUrl: string; logLevel?: string } {
  return {
    redisUrl: env.REDIS_URL || new NodeConfig().redisUrl,
    logLevel: env.ASTRAL_LOG_LEVEL || undefined,
  };
}

type Role = 'agent' | 'relay';

/** One half of a node under supervision: its current process, and its restart history. */
interface Half {
  role: Role;
  /** Answers once the half is serving: the relay with 200; the agent's API with any answer (503 until
   * the directory has registered the node). */
  probeUrl: string;
  anyAnswer: boolean;
  proc: ManagedProcess | null;
  startedAt: number;
  ready: boolean;
  failures: number;
  restarts: number;
  timer: NodeJS.Timeout | null;
}

/** A half not started yet. */
function stoppedHalf(role: Role, probeUrl: string, anyAnswer: boolean): Half {
  return {
    role,
    probeUrl,
    anyAnswer,
    proc: null,
    startedAt: 0,
    ready: false,
    failures: 0,
    restarts: 0,
    timer: null,
  };
}

/** The address to reach a listener bound to `host` from this machine. */
function reachable(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return urlHost(host);
}

async function answers(url: string, anyAnswer: boolean): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return anyAnswer || res.ok;
  } catch {
    return false;
  }
}

function describe(exit: ProcessExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * `astral node start`: the agent and the relay of one node as two supervised child processes with the
 * same environment.
 *
 * - Once both halves answer (agent GET /api/status, relay GET /healthz on the forward port), a summary
 *   goes to stderr (node id, API URL, ports) and one structured `node ready` line to stdout.
 * - A half that dies after that is restarted with backoff (0.5 s doubling to 30 s, reset after a run
 *   of 60 s; lifecycle.ts restartDelay); each death and restart is said on stderr and logged. A
 *   restarted relay announces `ready` and its agent replays its state (publish keys, admissions, upload
 *   limit); a restarted agent registers with the directory again.
 * - A half that exits before the node was ever ready (a bad flag, Redis unreachable) stops the node:
 *   exit 1, after the half's own message.
 * - SIGINT/SIGTERM stop the node: the agent first (its graceful leave re-parents the children while
 *   the relay still serves them), then the relay; exit 0 only if both stopped cleanly.
 */
async function startNode(env: NodeJS.ProcessEnv): Promise<void> {
  const say = (line: string): void => void process.stderr.write(`astral node: ${line}\n`);
  let config: NodeConfig;
  let nodeId: string;
  try {
    config = loadConfig(NodeConfig, NODE_ENV, env);
    // Created here, once, so that the two halves never race to create them.
    nodeId = nodeIdFor(config.dataDir, config.redisUrl);
    if (!config.apiToken) loadOrCreateApiToken(config.dataDir);
  } catch (err) {
    say(errorMessage(err));
    process.exit(2);
  }
  const log: Logger = createLogger('node', nodeId, config.logLevel);
  installProcessPolicy(log, { name: 'node' });
  const host = reachable(config.host);
  const apiUrl = `http://${reachable(config.apiHost)}:${config.apiPort}`;
  const halves: Record<Role, Half> = {
    agent: stoppedHalf('agent', `${apiUrl}/api/status`, true),
    relay: stoppedHalf('relay', `http://${host}:${config.forwardPort}/healthz`, false),
  };
  let up = false;
  let stopping = false;
  let signalled = false;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));

  const printSummary = (): void => {
    up = true;
    const summary = {
      nodeId,
      apiUrl,
      rtmpPort: config.rtmpPort,
      httpPort: config.httpPort,
      forwardPort: config.forwardPort,
      uploadLimitBps: config.uploadLimitBps ?? null,
    };
    log.info(summary, 'node ready');
    say(`ready: node ${nodeId}`);
    process.stderr.write(
      [
        `  API        ${apiUrl}   (astral node status --node ${apiUrl}${config.dataDir === new NodeConfig().dataDir ? '' : ` --data-dir ${config.dataDir}`})`,
        `  RTMP       rtmp://${host}:${config.rtmpPort}/live/<streamId>   (publish and play)`,
        `  HTTP-FLV   http://${host}:${config.httpPort}/live/<streamId>.flv   (publish and play)`,
        `  HLS        http://${host}:${config.httpPort}${hlsPlaylistPath('<streamId>')}   (play)`,
        `  LL-HLS     http://${host}:${config.httpPort}${llHlsPlaylistPath('<streamId>')}   (play, Low-Latency HLS)`,
        `  forward    ${host}:${config.forwardPort}   (downstream relays; GET /healthz)`,
        '',
      ].join('\n'),
    );
  };

  const watchReady = (half: Half, proc: ManagedProcess): void => {
    const poll = async (): Promise<void> => {
      while (!stopping && half.proc === proc && proc.running && !half.ready) {
        if (await answers(half.probeUrl, half.anyAnswer)) {
          if (half.proc !== proc || !proc.running) return;
          half.ready = true;
          if (half.restarts > 0) {
            say(
              `the ${half.role} is back (restart ${half.restarts}, ready after ${seconds(Date.now() - half.startedAt)})`,
            );
            log.info(
              { half: half.role, restarts: half.restarts, pid: proc.pid },
              `${half.role} restarted and ready`,
            );
          }
          if (!up && halves.agent.ready && halves.relay.ready) printSummary();
          return;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    void poll();
  };

  const launch = (half: Half): void => {
    half.timer = null;
    if (stopping) return;
    const proc = spawnManaged(half.role, [astralBin(), half.role], { env, detached: false });
    half.proc = proc;
    half.ready = false;
    half.startedAt = Date.now();
    proc.onExit((exit) => onExit(half, proc, exit));
    watchReady(half, proc);
  };

  const onExit = (half: Half, proc: ManagedProcess, exit: ProcessExit): void => {
    if (stopping || half.proc !== proc) return;
    const ranForMs = Date.now() - half.startedAt;
    half.ready = false;
    if (!up) {
      say(`the ${half.role} exited during start-up (${describe(exit)}); stopping the node`);
      log.error({ half: half.role, exit }, `${half.role} exited during start-up; stopping the node`);
      void stopAll('SIGTERM').then(() => finish(1));
      return;
    }
    const next = restartDelay(half.failures, ranForMs);
    half.failures = next.failures;
    half.restarts++;
    say(
      `the ${half.role} died (${describe(exit)}) after ${seconds(ranForMs)}; restarting it in ${seconds(next.delayMs)}`,
    );
    log.error(
      { half: half.role, exit, pid: proc.pid, ranForMs, restartInMs: next.delayMs, restart: half.restarts },
      `${half.role} died (${describe(exit)}); restarting it`,
    );
    half.timer = setTimeout(() => launch(half), next.delayMs);
  };

  // The agent goes first: its graceful leave re-parents the children while the relay still serves
  // them; then the relay stops.
  let stoppingAll: Promise<void> | null = null;
  const stopAll = (signal: NodeJS.Signals): Promise<void> =>
    (stoppingAll ??= (async () => {
      stopping = true;
      for (const half of Object.values(halves)) if (half.timer) clearTimeout(half.timer);
      await halves.agent.proc?.stop(signal, 20_000).catch(() => undefined);
      await halves.relay.proc?.stop(signal, 20_000).catch(() => undefined);
    })());

  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'stopping the node');
    // A half waiting to be restarted is not running, and its earlier death is not part of this stop.
    const running = Object.values(halves).filter((h) => h.proc?.running);
    void stopAll(signal).then(() => finish(running.every((h) => h.proc?.exitStatus?.code === 0) ? 0 : 1));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  launch(halves.agent);
  launch(halves.relay);
  process.exit(await finished);
}

/**
 * `astral node start`, plus the commands that control a running node through its agent's local API
 * (node-control.command.ts).
 */
export function nodeCommand(): Command {
  const node = new Command('node').description('control a node');
  addFlags(
    node
      .command('start')
      .description('run a whole node: agent and relay as two supervised processes, restarted if they die'),
    NODE_FLAGS,
  ).action(async (opts: Record<string, unknown>) => startNode(envFromFlags(NODE_FLAGS, opts)));
  return addNodeControlCommands(node);
}
