import type { NodeStatus } from '@astral/contracts';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ManagedProcess,
  ProcessExit,
  makeTempDir,
  removeTempDir,
  spawnAstral,
  spawnManaged,
} from './managed-process';
import { newOperatorToken } from './directory-requests';
import { freePort } from './ports';
import { RedisHandle, startRedis } from './redis';
import { astralBin } from './repo-root';
import { readNodeApiToken } from './agent-api';
import { WaitAbortedError, waitFor } from './wait-for';

export interface LocalNodeOptions {
  /** Upload limit of the node's relay, e.g. '1.5mbit'; unset means unlimited. */
  uploadLimit?: string;
  /** Extra environment for this node's agent and relay. */
  env?: NodeJS.ProcessEnv;
  /** This node's own Redis URL (its ACL user's credentials); default the network's. */
  redisUrl?: string;
  /** The address this node binds and advertises (default: the network's `host`), e.g. its namespace's address. */
  host?: string;
  /** Fixed ports for this node (e.g. the defaults, inside its own namespace) instead of free ones. */
  ports?: NodePorts;
  /**
   * Runs the node through this command prefix, e.g. ['ip', 'netns', 'exec', 'astral-tb-n1'] (which
   * execs, so the process is still the node's `astral node start`).
   */
  launcher?: string[];
}

export interface LocalNetworkOptions {
  nodes: LocalNodeOptions[];
  /** Use this Redis; without it a private redis-server is started (and stopped with the network). */
  redisUrl?: string;
  /** The directory's Redis URL (its ACL user's credentials); default `redisUrl`. */
  directoryRedisUrl?: string;
  /** Parent of the data dirs; default a temp dir removed by stop(). */
  dataRoot?: string;
  /** Where the children's logs go; default `<dataRoot>/logs`. */
  logDir?: string;
  /** Loopback address every process binds (default 127.0.0.1). */
  host?: string;
  /** Take ports basePort, basePort+1, … instead of random free ports. */
  basePort?: number;
  logLevel?: string;
  heartbeatMs?: number;
  stallMs?: number;
  /** How long to wait for each process to become ready (default 90 s: generous for a loaded 2-core machine). */
  readyTimeoutMs?: number;
  /** Extra environment for every child. */
  env?: NodeJS.ProcessEnv;
}

export interface NodePorts {
  rtmp: number;
  http: number;
  forward: number;
  api: number;
}

export interface LocalNode {
  /** Position in the `nodes` option, from 0. */
  index: number;
  /** 'node1', 'node2', …: the name used in logs. */
  name: string;
  /** Read from GET /api/status once ready. */
  nodeId: string;
  apiUrl: string;
  /** rtmp://host:port/live: append /<streamId>. */
  rtmpUrlBase: string;
  /** http://host:port/live: append /<streamId>.flv. */
  httpUrlBase: string;
  forwardStatsUrl: string;
  ports: NodePorts;
  dataDir: string;
  /** The node's agent API token, from its data directory (there once the node has started). */
  readonly apiToken: string;
  logFile: string;
  uploadLimit?: string;
  /** The `astral node start` process (agent and relay are its children). */
  readonly process: ManagedProcess;
  playUrls(streamId: string): { rtmp: string; httpFlv: string };
  /** Sends a signal now; SIGKILL (the default) takes the agent and the relay down with it. */
  kill(signal?: NodeJS.Signals): void;
  /** Graceful stop: SIGTERM, then SIGKILL after timeoutMs. */
  stop(timeoutMs?: number): Promise<ProcessExit>;
  /** Starts the node again (same ports, same data dir, so the same node id) and waits until ready. */
  start(): Promise<void>;
}

export interface LocalNetwork {
  redisUrl: string;
  /** The directory's web root, e.g. http://127.0.0.1:8080. */
  directoryUrl: string;
  /** The directory's ASTRAL_OPERATOR_TOKEN (options.env's, else a fresh one): may call every HTTP route. */
  operatorToken: string;
  directory: ManagedProcess;
  redis: RedisHandle | null;
  nodes: LocalNode[];
  dataRoot: string;
  logDir: string;
  /** The tails of every child's log, for a failure message. */
  logs(maxBytesEach?: number): string;
  /** Stops every node, the directory and (if it started it) Redis, then removes the temp dirs it made. */
  stop(): Promise<void>;
}

/** Starts a directory and N nodes (`astral node start`) as local processes on loopback. */
export async function startLocalNetwork(options: LocalNetworkOptions): Promise<LocalNetwork> {
  const host = options.host ?? '127.0.0.1';
  const ownRoot = options.dataRoot === undefined;
  const dataRoot = options.dataRoot ?? makeTempDir('astral-net-');
  const logDir = options.logDir ?? join(dataRoot, 'logs');
  mkdirSync(logDir, { recursive: true });
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const logLevel = options.logLevel ?? 'info';
  let nextPort = options.basePort;
  const port = async (): Promise<number> => (nextPort === undefined ? freePort(host) : nextPort++);

  let redis: RedisHandle | null = null;
  let directory: ManagedProcess | null = null;
  const nodes: LocalNode[] = [];
  const processes = (): ManagedProcess[] => [
    ...nodes.map((n) => n.process),
    ...(directory ? [directory] : []),
  ];
  const logs = (maxBytesEach = 4000): string =>
    processes()
      .map((p) => `----- ${p.name} (${p.logFile ?? 'no log file'}) -----\n${p.readLog(maxBytesEach)}`)
      .join('\n');

  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    if (directory) await directory.stop('SIGTERM', 10_000);
    if (redis) await redis.stop();
    if (ownRoot) removeTempDir(dataRoot);
  };

  const readyOrDied = (p: ManagedProcess, what: string): void => {
    if (!p.running) {
      throw new WaitAbortedError(
        `${what} exited during start-up with ${JSON.stringify(p.exitStatus)}; log ${p.logFile}:\n${p.readLog(4000)}`,
      );
    }
  };

  try {
    const redisUrl = options.redisUrl ?? (redis = await startRedis()).url;
    const baseEnv = { ...process.env, ...options.env };

    const directoryPort = await port();
    const directoryUrl = `http://${host}:${directoryPort}`;
    const directoryDir = join(dataRoot, 'directory');
    mkdirSync(directoryDir, { recursive: true });
    const dirArgs = [
      'directory',
      '--port',
      String(directoryPort),
      '--host',
      host,
      '--data-dir',
      directoryDir,
    ];
    dirArgs.push('--redis', options.directoryRedisUrl ?? redisUrl, '--log-level', logLevel);
    if (options.heartbeatMs !== undefined) dirArgs.push('--heartbeat-ms', String(options.heartbeatMs));
    const operatorToken = baseEnv.ASTRAL_OPERATOR_TOKEN || newOperatorToken();
    const dir = spawnAstral('directory', dirArgs, {
      env: { ...baseEnv, ASTRAL_OPERATOR_TOKEN: operatorToken },
      logFile: join(logDir, 'directory.log'),
    });
    directory = dir;
    await waitFor(
      async () => {
        readyOrDied(dir, 'the directory');
        return (await fetch(`${directoryUrl}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
      },
      { timeoutMs: readyTimeoutMs, intervalMs: 200, what: `the directory at ${directoryUrl}/healthz` },
    );

    for (const [index, nodeOptions] of options.nodes.entries()) {
      const ports: NodePorts = nodeOptions.ports ?? {
        rtmp: await port(),
        http: await port(),
        forward: await port(),
        api: await port(),
      };
      nodes.push(
        makeNode({
          index,
          host: nodeOptions.host ?? host,
          ports,
          nodeOptions,
          dataDir: join(dataRoot, `node${index + 1}`),
          logFile: join(logDir, `node${index + 1}.log`),
          redisUrl: nodeOptions.redisUrl ?? redisUrl,
          directoryUrl,
          logLevel,
          stallMs: options.stallMs,
          env: { ...baseEnv, ...nodeOptions.env },
          readyTimeoutMs,
          readyOrDied,
        }),
      );
    }
    await Promise.all(nodes.map((n) => n.start()));

    return {
      redisUrl,
      directoryUrl,
      operatorToken,
      directory: dir,
      redis,
      nodes,
      dataRoot,
      logDir,
      logs,
      stop,
    };
  } catch (err) {
    const tails = logs();
    await stop();
    if (err instanceof Error && !(err instanceof WaitAbortedError)) err.message += `\n${tails}`;
    throw err;
  }
}

interface MakeNodeArgs {
  index: number;
  host: string;
  ports: NodePorts;
  nodeOptions: LocalNodeOptions;
  dataDir: string;
  logFile: string;
  redisUrl: string;
  directoryUrl: string;
  logLevel: string;
  stallMs?: number;
  env: NodeJS.ProcessEnv;
  readyTimeoutMs: number;
  readyOrDied: (p: ManagedProcess, what: string) => void;
}

function makeNode(a: MakeNodeArgs): LocalNode {
  const name = `node${a.index + 1}`;
  const { host, ports } = a;
  const args = ['node', 'start', '--data-dir', a.dataDir, '--redis', a.redisUrl, '--host', host];
  // The harness reaches the API at apiUrl, on the node's own address (loopback, or its namespace's).
  args.push('--api-host', host);
  args.push('--rtmp-port', String(ports.rtmp), '--http-port', String(ports.http));
  args.push('--forward-port', String(ports.forward), '--api-port', String(ports.api));
  args.push('--directory-origin', a.directoryUrl, '--log-level', a.logLevel);
  if (a.nodeOptions.uploadLimit !== undefined) args.push('--upload-limit', a.nodeOptions.uploadLimit);
  if (a.stallMs !== undefined) args.push('--stall-ms', String(a.stallMs));

  let proc: ManagedProcess | null = null;
  const current = (): ManagedProcess => {
    if (!proc) throw new Error(`${name} has not been started`);
    return proc;
  };
  const node: LocalNode = {
    index: a.index,
    name,
    nodeId: '',
    apiUrl: `http://${host}:${ports.api}`,
    rtmpUrlBase: `rtmp://${host}:${ports.rtmp}/live`,
    httpUrlBase: `http://${host}:${ports.http}/live`,
    forwardStatsUrl: `http://${host}:${ports.forward}/stats`,
    ports,
    dataDir: a.dataDir,
    get apiToken() {
      return readNodeApiToken(a.dataDir);
    },
    logFile: a.logFile,
    uploadLimit: a.nodeOptions.uploadLimit,
    get process() {
      return current();
    },
    playUrls: (streamId) => ({
      rtmp: `${node.rtmpUrlBase}/${streamId}`,
      httpFlv: `${node.httpUrlBase}/${streamId}.flv`,
    }),
    kill: (signal = 'SIGKILL') => proc?.kill(signal),
    stop: async (timeoutMs = 15_000) => (proc ? proc.stop('SIGTERM', timeoutMs) : { code: 0, signal: null }),
    start: async () => {
      if (proc?.running) throw new Error(`${name} is already running`);
      const launcher = a.nodeOptions.launcher;
      const p = launcher?.length
        ? spawnManaged(name, [...launcher.slice(1), process.execPath, astralBin(), ...args], {
            command: launcher[0],
            env: a.env,
            logFile: a.logFile,
          })
        : spawnAstral(name, args, { env: a.env, logFile: a.logFile });
      proc = p;
      const status = await waitFor(
        async () => {
          a.readyOrDied(p, name);
          const res = await fetch(`${node.apiUrl}/api/status`, { signal: AbortSignal.timeout(2000) });
          return res.ok ? ((await res.json()) as Pick<NodeStatus, 'nodeId'>) : false;
        },
        {
          timeoutMs: a.readyTimeoutMs,
          intervalMs: 200,
          what: `${name}'s agent at ${node.apiUrl}/api/status`,
        },
      );
      node.nodeId = status.nodeId;
    },
  };
  return node;
}
