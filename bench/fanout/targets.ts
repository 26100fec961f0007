import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FlvFilePublisher } from '@astral/media';
import { ManagedProcess, spawnFfmpegLoopPublisher, waitFor } from '@astral/testing';
import { RawConsumer } from '../lib/raw-consumer';
import { RelayTestbed, TestRelay, sha256Hex } from '../lib/relay-testbed';
import { NginxRtmp, startNginxRtmp } from '../peers/nginx-rtmp';
import { RtmpPlayer } from '../peers/rtmp-player';
import { StandaloneNms, startStandaloneNms } from './node-media-server';

/** A consumer as the benches see it: a byte count on one socket. */
export interface ByteCounter {
  bytes: number;
  ended: boolean;
  close(): void;
}

/** One server under load, publishing one stream in real time, that opens consumers of it on demand. */
export interface FanoutTarget {
  name: string;
  what: string;
  /** The process that does the serving: its utime+stime and RSS are the figures. */
  pid: number;
  /** Every process of the server, for pinning (nginx's master and worker; the relay). */
  pids: number[];
  /** The publisher's process if it is a child (ffmpeg), for pinning beside the clients. */
  publisherPid?: number;
  /** Opens `n` more consumers, 50 at a time; returns those that reached media. */
  open(n: number): Promise<ByteCounter[]>;
  /** Astral only: its forwards' dropped tags and the stream's tags in, from /stats. */
  counters?(): Promise<{ droppedTags: number; tagsIn: number }>;
  stop(): Promise<void>;
}

const STREAM = 'bench-fanout';

async function openInBatches(n: number, open: () => Promise<ByteCounter>): Promise<ByteCounter[]> {
  const out: ByteCounter[] = [];
  for (let i = 0; i < n; i += 50) {
    const opened = await Promise.allSettled(Array.from({ length: Math.min(50, n - i) }, open));
    for (const o of opened) if (o.status === 'fulfilled') out.push(o.value);
  }
  return out;
}

/** Publishes `file` to a relay in real time, looped, over HTTP-FLV ingest (as the testbed publishes the sample). */
async function publishFile(relay: TestRelay, file: string): Promise<FlvFilePublisher> {
  const key = randomBytes(18).toString('base64url');
  await relay.control.authorizePublish({ streamId: STREAM, keyHash: sha256Hex(key) });
  const publisher = new FlvFilePublisher({ file, url: `${relay.httpFlvUrl(STREAM)}?key=${key}` });
  publisher.on('error', () => undefined);
  await publisher.start();
  await waitFor(
    async () => (await relay.stats()).streams.some((s) => s.streamId === STREAM && s.bitrateBps > 0),
    { timeoutMs: 15_000, what: 'the stream to flow at the relay' },
  );
  return publisher;
}

/**
 * An Astral relay with `file` published to it. `forwards`: raw consumers on its forward port, one admitted
 * ticket each; `players`: raw HTTP-FLV players on its HTTP-FLV port (/live/<id>.flv).
 */
export async function astralTarget(
  bed: RelayTestbed,
  name: string,
  file: string,
  mode: 'forwards' | 'players',
): Promise<FanoutTarget> {
  const relay = await bed.startRelay(name, { logLevel: 'warn' });
  const publisher = await publishFile(relay, file);
  const pid = relay.process.pid!;
  return {
    name: 'astral',
    what:
      mode === 'forwards'
        ? 'Astral relay, raw consumers on its forward port'
        : 'Astral relay, raw HTTP-FLV players on its HTTP-FLV port',
    pid,
    pids: [pid],
    open: (n) =>
      mode === 'players'
        ? openInBatches(n, () => RawConsumer.open(relay.httpFlvUrl(STREAM), 20_000))
        : openInBatches(n, async () => {
            const f = await relay.admit(STREAM);
            return RawConsumer.open(f.url, 20_000, f.headers());
          }),
    counters: async () => {
      const s = (await relay.stats()).streams.find((x) => x.streamId === STREAM);
      if (!s) throw new Error(`${STREAM} is gone from ${name}'s stats`);
      return { droppedTags: s.forwards.reduce((n, f) => n + f.droppedTags, 0), tagsIn: s.tagsIn };
    },
    stop: async () => {
      await publisher.stop(2000).catch(() => undefined);
      await relay.process.stop('SIGTERM', 10_000);
    },
  };
}

/** Retries `open` until one consumer reaches media (the publisher has just started). */
async function firstMedia(open: () => Promise<ByteCounter>, what: string): Promise<void> {
  await waitFor(
    async () => {
      const c = await open().catch(() => null);
      c?.close();
      return c !== null;
    },
    { timeoutMs: 20_000, intervalMs: 300, what },
  );
}

function loopPublisher(dir: string, file: string, url: string): ManagedProcess {
  return spawnFfmpegLoopPublisher('ffmpeg-publish', file, url, join(dir, 'publish.log'));
}

/** node-media-server alone with `file` published over RTMP; raw HTTP-FLV players. */
export async function nmsTarget(dir: string, file: string): Promise<FanoutTarget> {
  const nms: StandaloneNms = await startStandaloneNms(dir);
  const publisher = loopPublisher(dir, file, nms.rtmpUrl(STREAM));
  const open = (): Promise<ByteCounter> => RawConsumer.open(nms.httpFlvUrl(STREAM), 20_000);
  try {
    await firstMedia(async () => {
      const c = await RawConsumer.open(nms.httpFlvUrl(STREAM), 3000);
      await waitFor(() => c.bytes > 8192, { timeoutMs: 3000, intervalMs: 50, what: 'media' });
      return c;
    }, 'media from node-media-server');
  } catch (err) {
    await publisher.stop('SIGTERM', 3000);
    await nms.stop();
    throw new Error(`${(err as Error).message}: ${nms.process.readLog(1000)} ${publisher.readLog(1000)}`);
  }
  return {
    name: 'nodeMediaServer',
    what: 'node-media-server 4 alone (its own process), raw HTTP-FLV players',
    pid: nms.pid,
    pids: [nms.pid],
    publisherPid: publisher.pid,
    open: (n) => openInBatches(n, open),
    stop: async () => {
      await publisher.stop('SIGTERM', 3000);
      await nms.stop();
    },
  };
}

/** nginx-rtmp (one worker) with `file` published over RTMP; raw RTMP players. */
export async function nginxTarget(dir: string, name: string, file: string): Promise<FanoutTarget> {
  const nginx: NginxRtmp = await startNginxRtmp(dir, name);
  const publisher = loopPublisher(join(dir, name), file, nginx.rtmpUrl(STREAM));
  const open = (): Promise<ByteCounter> => RtmpPlayer.open(nginx.rtmpUrl(STREAM), 20_000);
  try {
    await firstMedia(() => RtmpPlayer.open(nginx.rtmpUrl(STREAM), 3000), 'media from nginx-rtmp');
  } catch (err) {
    await publisher.stop('SIGTERM', 3000);
    await nginx.stop();
    throw new Error(`${(err as Error).message}: ${nginx.errorLog().slice(-1000)} ${publisher.readLog(1000)}`);
  }
  return {
    name: 'nginxRtmp',
    what: 'nginx-rtmp (one worker), raw RTMP players',
    pid: nginx.workerPid,
    pids: [nginx.process.pid!, nginx.workerPid],
    publisherPid: publisher.pid,
    open: (n) => openInBatches(n, open),
    stop: async () => {
      await publisher.stop('SIGTERM', 3000);
      await nginx.stop();
    },
  };
}
