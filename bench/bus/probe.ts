/**
 * A latency probe in its own process, so that its figures do not wait on the bench process's busy
 * event loop: `node probe.js <config JSON>`. It publishes PROBE_PER_S messages a second on a channel it
 * subscribes to itself, the way the fleet does (`--cluster 0`: PUBLISH `node.<id>.tickets.heartbeat@<id>`
 * read through PSUBSCRIBE `node.<id>.*`, so Redis matches it against every node's pattern; cluster:
 * SPUBLISH/SSUBSCRIBE on its own inbox), and on SIGTERM writes `[Date.now(), latencyMs][]` to `out`.
 * It writes `<out>.ready` once subscribed. Only ioredis here: it runs without the @astral/* path mapping.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import Redis, { Cluster } from 'ioredis';

export interface ProbeConfig {
  /** One redis-server (`url`) or the cluster's ports. */
  url?: string;
  clusterPorts?: number[];
  /** On the cluster: the sharded inbox (SPUBLISH/SSUBSCRIBE), or today's transport's PUBLISH/PSUBSCRIBE. */
  clusterMode?: 'inbox' | 'nest';
  out: string;
}

export const PROBE_PER_S = 20;

async function main(config: ProbeConfig): Promise<void> {
  const id = randomUUID();
  const samples: [number, number][] = [];
  const heard = (raw: string): void => {
    const sentAt = Number(raw);
    samples.push([Date.now(), performance.now() - sentAt]);
  };
  let publish: (message: string) => Promise<unknown>;
  let close: () => void;
  if (config.clusterPorts && config.clusterMode === 'nest') {
    // A ticket heartbeat as today's transport sends it on a cluster: PUBLISH, matched by PSUBSCRIBE.
    const c = new Cluster(config.clusterPorts.map((port) => ({ host: '127.0.0.1', port })));
    c.on('error', () => undefined);
    c.on('pmessage', (_p: string, _ch: string, raw: string) => heard(raw));
    await c.psubscribe(`node.${id}.*`);
    publish = (m) => c.publish(`node.${id}.tickets.heartbeat@${id}`, m);
    close = () => c.disconnect();
  } else if (config.clusterPorts) {
    const c = new Cluster(
      config.clusterPorts.map((port) => ({ host: '127.0.0.1', port })),
      { shardedSubscribers: true },
    );
    c.on('error', () => undefined);
    const inbox = `node.{${id}}.inbox`;
    c.on('smessage', (_ch: string, raw: string) => heard(raw));
    await c.ssubscribe(inbox);
    publish = (m) => c.spublish(inbox, m);
    close = () => c.disconnect();
  } else {
    const sub = new Redis(config.url!);
    const pub = new Redis(config.url!);
    sub.on('pmessage', (_p: string, _ch: string, raw: string) => heard(raw));
    await sub.psubscribe(`node.${id}.*`);
    publish = (m) => pub.publish(`node.${id}.tickets.heartbeat@${id}`, m);
    close = () => {
      sub.disconnect();
      pub.disconnect();
    };
  }
  writeFileSync(`${config.out}.ready`, '');
  const timer = setInterval(
    () => void publish(String(performance.now())).catch(() => undefined),
    1000 / PROBE_PER_S,
  );
  process.once('SIGTERM', () => {
    clearInterval(timer);
    writeFileSync(config.out, JSON.stringify(samples));
    close();
    process.exit(0);
  });
}

if (require.main === module) {
  main(JSON.parse(process.argv[2]) as ProbeConfig).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
