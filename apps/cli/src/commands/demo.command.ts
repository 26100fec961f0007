import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Command } from 'commander';
import {
  FlvTagReader,
  HttpJsonError,
  LocalNetwork,
  LocalNode,
  makeTempDir,
  removeTempDir,
  sampleFlvPath,
  sleep,
  startLocalNetwork,
  redactUrl,
  startRedis,
  startRedisCluster,
  waitFor,
  WaitAbortedError,
  agentApi,
} from '@astral/testing';
import { FlvFilePublisher } from '@astral/media';
import type { PlayUrls } from '@astral/contracts';
import { errorMessage, printJson } from '../output';
import { DemoNodeSummary, renderDemoSummary } from './demo-summary';
import { createStream } from './publish.command';
import { watchNetwork } from './demo-watch';

interface DemoOptions {
  nodes: string;
  duration?: string;
  basePort?: string;
  redisCluster?: string;
  json?: boolean;
}

export interface WatchAnswer {
  streamId: string;
  upstreamNodeId: string;
  hops: number;
  play: PlayUrls;
}

const SOURCE_LIMIT = '1.5mbit';
const VIEWER_LIMIT = '4mbit';

/** Where Redis came from, and how to let it go. */
interface RedisSource {
  url: string;
  what: string;
  stop(): Promise<void>;
}

function onPath(program: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/**
 * REDIS_URL, else a private Redis Cluster of `clusterShards` masters (--redis-cluster), else a private
 * redis-server, else redis-memory-server if installed, else null.
 */
async function acquireRedis(clusterShards?: number): Promise<RedisSource | null> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv)
    return { url: fromEnv, what: `REDIS_URL (${redactUrl(fromEnv)})`, stop: () => Promise.resolve() };
  if (clusterShards !== undefined) {
    const cluster = await startRedisCluster({ shards: clusterShards });
    const [first, ...rest] = cluster.nodes.map((n) => `127.0.0.1:${n.port}`);
    return {
      url: `redis://${first}?cluster=1&seed=${rest.join(',')}`,
      what: `a private ${clusterShards}-shard Redis Cluster on ports ${cluster.nodes.map((n) => n.port).join(', ')}`,
      stop: () => cluster.stop(),
    };
  }
  if (onPath('redis-server')) {
    const redis = await startRedis();
    return { url: redis.url, what: `a private redis-server on port ${redis.port}`, stop: () => redis.stop() };
  }
  try {
    // Optional dependency: only used when it happens to be installed.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('redis-memory-server') as {
      RedisMemoryServer: new () => {
        getHost(): Promise<string>;
        getPort(): Promise<number>;
        stop(): Promise<unknown>;
      };
    };
    const server = new mod.RedisMemoryServer();
    const url = `redis://${await server.getHost()}:${await server.getPort()}`;
    return { url, what: `redis-memory-server (${url})`, stop: async () => void (await server.stop()) };
  } catch {
    return null;
  }
}

/** Plays a URL until `frames` video frames arrive; true on success. */
export async function receives(url: string, frames = 5, timeoutMs = 15_000): Promise<boolean> {
  let reader: FlvTagReader | null = null;
  try {
    await waitFor(
      async () => {
        reader?.close();
        reader = await FlvTagReader.open(url);
        await reader.waitForFrames(frames, Math.min(5000, timeoutMs));
        return true;
      },
      { timeoutMs, intervalMs: 500, what: `video frames from ${url}` },
    );
    return true;
  } catch {
    return false;
  } finally {
    (reader as FlvTagReader | null)?.close();
  }
}

/** Asks a node to watch a stream, retrying while the network is still learning about it. */
export async function watch(node: LocalNode, streamId: string): Promise<WatchAnswer> {
  return waitFor(
    async () => {
      try {
        return await agentApi<WatchAnswer>(node, 'POST', `/api/streams/${streamId}/watch`, {});
      } catch (err) {
        // 404 (not announced yet) and 5xx (no offer yet) are worth retrying; other refusals are final.
        if (
          err instanceof HttpJsonError &&
          err.status >= 400 &&
          err.status < 500 &&
          err.status !== 404 &&
          err.status !== 409
        ) {
          throw new WaitAbortedError(err.message);
        }
        throw err;
      }
    },
    { timeoutMs: 30_000, intervalMs: 1000, what: `${node.name} to get a ticket for ${streamId}` },
  );
}

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'start a directory and N nodes on loopback, publish the sample and let the relay chain build itself',
    )
    .option('--nodes <n>', 'number of nodes', '3')
    .option('--duration <sec>', 'stop after this many seconds (default: until Ctrl-C)')
    .option('--base-port <port>', 'use consecutive ports from here (default: random free ports)')
    .option(
      '--redis-cluster <shards>',
      'run the bus on a private Redis Cluster of this many shards (3 or more)',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (opts: DemoOptions) => {
      const count = Number(opts.nodes);
      if (!Number.isInteger(count) || count < 1 || count > 50) {
        process.stderr.write('astral demo: --nodes must be an integer from 1 to 50\n');
        process.exit(2);
      }
      const durationSec = opts.duration !== undefined ? Number(opts.duration) : undefined;
      if (durationSec !== undefined && !(durationSec > 0)) {
        process.stderr.write('astral demo: --duration must be a positive number of seconds\n');
        process.exit(2);
      }
      const basePort = opts.basePort !== undefined ? Number(opts.basePort) : undefined;
      if (basePort !== undefined && !(Number.isInteger(basePort) && basePort > 0 && basePort < 65000)) {
        process.stderr.write('astral demo: --base-port must be a port number\n');
        process.exit(2);
      }
      const shards = opts.redisCluster !== undefined ? Number(opts.redisCluster) : undefined;
      if (shards !== undefined && !(Number.isInteger(shards) && shards >= 3 && shards <= 16)) {
        process.stderr.write('astral demo: --redis-cluster must be a number of shards from 3 to 16\n');
        process.exit(2);
      }
      const log = (line: string): void => void process.stderr.write(`${line}\n`);

      const redis = await acquireRedis(shards);
      if (!redis) {
        log('astral demo: no Redis available. Either install redis-server:');
        log('    apt-get install redis-server');
        log('or point the demo at a running Redis:');
        log('    REDIS_URL=redis://127.0.0.1:6379 npx astral demo');
        process.exit(1);
      }

      const tmp = makeTempDir('astral-demo-');
      const logDir = join(tmp, 'logs');
      let network: LocalNetwork | null = null;
      let publisher: FlvFilePublisher | null = null;
      let cleaning: Promise<void> | null = null;
      const cleanup = (): Promise<void> =>
        (cleaning ??= (async () => {
          await publisher?.stop().catch(() => undefined);
          await network
            ?.stop()
            .catch((err: unknown) => log(`astral demo: stopping the network: ${errorMessage(err)}`));
          await redis.stop().catch(() => undefined);
          removeTempDir(tmp);
        })());
      const fail = async (what: string, err: unknown): Promise<never> => {
        log(`astral demo: ${what}: ${errorMessage(err)}`);
        if (network) log(network.logs(3000));
        await cleanup();
        process.exit(1);
      };

      let interrupted = false;
      let wakeUp: (() => void) | null = null;
      const onSignal = (): void => {
        if (interrupted) return;
        interrupted = true;
        log('astral demo: stopping…');
        wakeUp?.();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const bail = async (): Promise<never> => {
        await cleanup();
        process.exit(0);
      };

      log(`astral demo: Redis: ${redis.what}`);
      log(`astral demo: logs of every process go to ${logDir}`);
      log(`astral demo: starting the directory and ${count} node(s)…`);
      try {
        network = await startLocalNetwork({
          redisUrl: redis.url,
          dataRoot: join(tmp, 'data'),
          logDir,
          basePort,
          nodes: Array.from({ length: count }, (_, i) => ({
            uploadLimit: i === 0 ? SOURCE_LIMIT : VIEWER_LIMIT,
          })),
        });
      } catch (err) {
        return fail('the network did not start', err);
      }
      if (interrupted) return bail();
      const net = network;
      let shuttingDown = false;
      // A node that dies is reported, never the end of the demo: only Ctrl-C or --duration end it.
      // (Each node's supervisor restarts its agent or relay by itself; the watch says so.)
      const unwatch = watchNetwork(net, log, () => shuttingDown || interrupted);

      const [source, ...viewers] = net.nodes;
      const names = new Map(net.nodes.map((n) => [n.nodeId, n.name]));
      const summary: DemoNodeSummary[] = [];
      let streamId: string;
      try {
        const created = await createStream(
          source.apiUrl,
          source.apiToken,
          'Astral demo',
          'fixtures/sample.flv, looped',
        );
        streamId = created.streamId;
        log(`astral demo: created stream ${streamId} on ${source.name}; publishing fixtures/sample.flv`);
        // The publisher is started again when it stops (its node's relay restarted, say), for as long
        // as the source node runs; the demo goes on either way.
        const startPublisher = async (): Promise<void> => {
          const p = new FlvFilePublisher({ file: sampleFlvPath(), url: created.publishUrl });
          publisher = p;
          p.on('error', (err: Error) => {
            if (shuttingDown || interrupted || publisher !== p) return;
            if (!source.process.running) {
              log(
                `astral demo: the publisher stopped (${errorMessage(err)}); ${source.name} is gone, so it stays stopped`,
              );
              return;
            }
            log(`astral demo: the publisher stopped (${errorMessage(err)}); publishing again in 2 s`);
            setTimeout(() => {
              if (shuttingDown || interrupted || publisher !== p) return;
              // A failed start emits 'error' on the new publisher, which schedules the next try.
              startPublisher().catch(() => undefined);
            }, 2000).unref();
          });
          await p.start();
        };
        await startPublisher();
        const live = await receives(created.play.httpFlv);
        if (!live) log(`astral demo: warning: ${source.name} does not play the stream yet`);
        summary.push({
          node: source.name,
          nodeId: source.nodeId,
          apiUrl: source.apiUrl,
          uploadLimit: SOURCE_LIMIT,
          upstream: 'publisher',
          hops: 0,
          receiving: live,
          play: created.play,
        });
        for (const viewer of viewers) {
          if (interrupted) return bail();
          log(`astral demo: ${viewer.name} watches ${streamId}…`);
          const answer = await watch(viewer, streamId);
          const ok = await receives(answer.play.httpFlv);
          if (!ok) log(`astral demo: warning: ${viewer.name} does not play the stream yet`);
          summary.push({
            node: viewer.name,
            nodeId: viewer.nodeId,
            apiUrl: viewer.apiUrl,
            uploadLimit: VIEWER_LIMIT,
            upstream: names.get(answer.upstreamNodeId) ?? answer.upstreamNodeId,
            hops: answer.hops,
            receiving: ok,
            play: answer.play,
          });
        }
      } catch (err) {
        if (interrupted) return bail();
        return fail('setting up the stream failed', err);
      }
      if (interrupted) return bail();

      if (opts.json) {
        printJson({ directoryUrl: net.directoryUrl, redisUrl: redis.url, logDir, streamId, nodes: summary });
      } else {
        const out = (s: string): void => void process.stdout.write(`${s}\n`);
        const { directoryUrl } = net;
        for (const line of renderDemoSummary({
          directoryUrl,
          streamId,
          logDir,
          sourceDataDir: source.dataDir,
          nodes: summary,
        }))
          out(line);
        out(durationSec ? `Running for ${durationSec} s (Ctrl-C stops earlier).` : 'Press Ctrl-C to stop.');
      }

      await new Promise<void>((resolve) => {
        wakeUp = resolve;
        if (interrupted) resolve();
        if (durationSec) setTimeout(resolve, durationSec * 1000);
      });
      shuttingDown = true;
      unwatch();
      await sleep(0);
      await cleanup();
      log('astral demo: stopped; temp files removed');
      process.exit(0);
    });
}
