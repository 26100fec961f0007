import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess, makeTempDir, removeTempDir, spawnManaged } from './managed-process';
import { freePort } from './ports';
import { assertRedisRunning, pingRedis } from './redis';
import { waitFor } from './wait-for';

const run = promisify(execFile);

export interface RedisClusterNode {
  port: number;
  /** The cluster bus port (`--cluster-port`), chosen free too: port + 10000 may not be. */
  busPort: number;
  /** The node's redis-server log, inside the cluster's temp dir. */
  logFile: string;
}

export interface RedisClusterHandle {
  /** `redis://127.0.0.1:<port>` of every node, masters first (shard i's master is urls[i]). */
  urls: string[];
  nodes: RedisClusterNode[];
  /** SIGTERMs every node and removes the temp dir. */
  stop(): Promise<void>;
  /**
   * SIGTERMs shard i's master and starts it again on the same ports with the same nodes.conf (no data:
   * no persistence), then waits until every node reports `cluster_state:ok`.
   */
  restartShard(i: number): Promise<void>;
}

export interface RedisClusterOptions {
  /** Masters, each holding an equal share of the 16384 slots (at least 3, as redis-cli requires). */
  shards?: number;
  replicasPerShard?: number;
  /** Extra redis-server arguments for every node, e.g. ['--maxclients', '20000']. */
  args?: string[];
  timeoutMs?: number;
}

/** `redis-cli -p <port> <args…>` on 127.0.0.1, its stdout. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 10_000,
  });
  return stdout;
}

/**
 * Starts a private Redis Cluster on loopback: shards × (1 + replicasPerShard) redis-server processes on
 * free ports of 127.0.0.1, each in its own dir of one temp dir, without persistence, joined with
 * `redis-cli --cluster create … --cluster-yes`. Resolves once every node says `cluster_state:ok`.
 * Requires redis-server and redis-cli 7 on PATH.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const shards = options.shards ?? 3;
  const replicas = options.replicasPerShard ?? 0;
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (shards < 3) throw new Error('a Redis Cluster needs at least 3 masters');
  const dir = makeTempDir('astral-redis-cluster-');
  const nodes: RedisClusterNode[] = [];
  for (let i = 0; i < shards * (1 + replicas); i++) {
    const port = await freePort();
    nodes.push({ port, busPort: await freePort(), logFile: join(dir, `node-${port}`, 'redis.log') });
  }
  const procs: (ManagedProcess | null)[] = nodes.map(() => null);

  const launch = async (i: number): Promise<void> => {
    const node = nodes[i];
    const nodeDir = join(dir, `node-${node.port}`);
    mkdirSync(nodeDir, { recursive: true });
    const args = [
      ...['--port', String(node.port), '--bind', '127.0.0.1', '--dir', nodeDir],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
      ...['--cluster-port', String(node.busPort), '--cluster-node-timeout', '5000'],
      ...['--save', '', '--appendonly', 'no'],
      ...(options.args ?? []),
    ];
    const p = spawnManaged('redis-server', args, { command: 'redis-server', logFile: node.logFile });
    procs[i] = p;
    await waitFor(
      async () => {
        assertRedisRunning(p);
        return pingRedis(node.port);
      },
      { timeoutMs, intervalMs: 20, what: `cluster node to answer PING on port ${node.port}` },
    );
  };

  const halt = async (i: number, signal: NodeJS.Signals): Promise<void> => {
    const p = procs[i];
    procs[i] = null;
    if (p) await p.stop(signal, 5000);
  };

  const allOk = (): Promise<boolean> =>
    waitFor(
      async () => {
        const infos = await Promise.all(nodes.map((n) => redisCli(n.port, 'CLUSTER', 'INFO')));
        if (!infos.every((info) => /^cluster_state:ok\r?$/m.test(info))) return false;
        if (replicas === 0) return true;
        // And every node sees every replica attached (right after create, some still list them as masters).
        const views = await Promise.all(nodes.map((n) => redisCli(n.port, 'CLUSTER', 'NODES')));
        return views.every((v) => (v.match(/ (myself,)?slave /g) ?? []).length === shards * replicas);
      },
      { timeoutMs, intervalMs: 100, what: 'cluster_state:ok and the replicas attached on every node' },
    );

  try {
    await Promise.all(nodes.map((_, i) => launch(i)));
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { timeout: timeoutMs },
    );
    await allOk();
  } catch (err) {
    await Promise.all(nodes.map((_, i) => halt(i, 'SIGKILL')));
    removeTempDir(dir);
    throw err;
  }

  // redis-cli makes the first `shards` nodes the masters.
  return {
    urls: nodes.map((n) => `redis://127.0.0.1:${n.port}`),
    nodes,
    stop: async () => {
      await Promise.all(nodes.map((_, i) => halt(i, 'SIGTERM')));
      removeTempDir(dir);
    },
    restartShard: async (i: number) => {
      if (i < 0 || i >= shards) throw new Error(`no shard ${i} (0..${shards - 1})`);
      await halt(i, 'SIGTERM');
      await launch(i);
      await allOk();
    },
  };
}
