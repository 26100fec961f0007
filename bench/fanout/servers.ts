import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { FlvFilePublisher } from '@astral/media';
import { ManagedProcess, spawnFfmpegLoopPublisher, waitFor } from '@astral/testing';
import { NginxRtmp, startNginxRtmp } from '../peers/nginx-rtmp';
import { startNodeMediaServer } from '../peers/node-media-server';
import { PoolTarget } from '../lib/player-pool';
import { RelayTestbed, TestRelay, sha256Hex } from '../lib/relay-testbed';
import { ServerName } from './figures';

/** One server under test, publishing one input: where its consumers connect and which process does the work. */
export interface ServerUnderTest {
  name: ServerName;
  /** The process whose utime+stime and RSS are the server's (nginx: its single worker). */
  pid: number;
  /** Every process of the server (for pinning it to a core). */
  pids: number[];
  /** Processes beside the server that feed it (its ffmpeg publisher), to pin away from it. */
  helperPids: number[];
  /** `k` consumer targets (Astral: k admitted forwards, each with its own proof). */
  targets(k: number): Promise<PoolTarget[]>;
  /** Astral only: the tags its forwards have dropped so far, and the tags it has taken in. */
  counters?(): Promise<{ droppedTags: number; tagsIn: number }>;
  stop(): Promise<void>;
}

/** Connection caps well above the largest K, so that the relay's own limits do not refuse consumers. */
export const RELAY_CAPS_ENV = {
  ASTRAL_MAX_CONNECTIONS: '100000',
  ASTRAL_MAX_CONNECTIONS_PER_ADDRESS: '100000',
};

export const STREAM = 'bench-fanout';

/** An Astral relay publishing `file` in real time (FlvFilePublisher into its HTTP-FLV ingest, as the testbed does). */
export async function astralServer(
  bed: RelayTestbed,
  name: string,
  file: string,
  env: Record<string, string> = {},
): Promise<ServerUnderTest & { relay: TestRelay; publisher: FlvFilePublisher }> {
  const relay = await bed.startRelay(name, { logLevel: 'warn', env: { ...RELAY_CAPS_ENV, ...env } });
  const key = randomBytes(18).toString('base64url');
  await relay.control.authorizePublish({ streamId: STREAM, keyHash: sha256Hex(key) });
  const publisher = new FlvFilePublisher({ file, url: `${relay.httpFlvUrl(STREAM)}?key=${key}` });
  publisher.on('error', () => undefined);
  await publisher.start();
  await waitFor(
    async () => (await relay.stats()).streams.some((s) => s.streamId === STREAM && s.bitrateBps > 0),
    {
      timeoutMs: 15_000,
      what: `the stream to flow into ${name}`,
    },
  );
  return {
    name: 'astral',
    relay,
    publisher,
    pid: relay.process.pid!,
    pids: [relay.process.pid!],
    helperPids: [],
    targets: async (k) => {
      const out: PoolTarget[] = [];
      for (let i = 0; i < k; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(50, k - i) }, () => relay.admit(STREAM)),
        );
        out.push(...batch.map((f) => ({ url: f.url, protocol: 'flv' as const, headers: f.headers() })));
      }
      return out;
    },
    counters: async () => {
      const s = (await relay.stats()).streams.find((x) => x.streamId === STREAM);
      return {
        droppedTags: (s?.forwards ?? []).reduce((n, f) => n + f.droppedTags, 0),
        tagsIn: s?.tagsIn ?? 0,
      };
    },
    stop: async () => {
      await publisher.stop(2000).catch(() => undefined);
      await relay.process.stop('SIGTERM', 10_000);
    },
  };
}

function publishWithFfmpeg(file: string, url: string, log: string): ManagedProcess {
  return spawnFfmpegLoopPublisher('ffmpeg-publish', file, url, log);
}

/** node-media-server alone, `file` published into it with `ffmpeg -re -stream_loop -1 -c copy` over RTMP. */
export async function nodeMediaServer(tmp: string, name: string, file: string): Promise<ServerUnderTest> {
  const nms = await startNodeMediaServer(tmp, name);
  const pub = publishWithFfmpeg(file, nms.rtmpUrl(STREAM), join(tmp, `${name}-publish.log`));
  await waitForPublish(() => nms.httpFlvUrl(STREAM), pub);
  await new Promise((r) => setTimeout(r, 1500));
  return {
    name: 'nodeMediaServer',
    pid: nms.pid,
    pids: [nms.pid],
    helperPids: [pub.pid!],
    targets: (k) =>
      Promise.resolve(
        Array.from({ length: k }, () => ({ url: nms.httpFlvUrl(STREAM), protocol: 'flv' as const })),
      ),
    stop: async () => {
      await pub.stop('SIGTERM', 3000);
      await nms.stop();
    },
  };
}

/** nginx-rtmp (one worker), `file` published the same way; RTMP players. */
export async function nginxServer(
  tmp: string,
  name: string,
  file: string,
): Promise<ServerUnderTest & { nginx: NginxRtmp }> {
  const nginx = await startNginxRtmp(tmp, name);
  const pub = publishWithFfmpeg(file, nginx.rtmpUrl(STREAM), join(tmp, `${name}-publish.log`));
  await waitFor(async () => (await nginx.bytesOut().catch(() => 0)) >= 0 && pub.running, {
    timeoutMs: 5000,
    what: 'ffmpeg to publish into nginx',
  });
  await new Promise((r) => setTimeout(r, 1500));
  return {
    name: 'nginxRtmp',
    nginx,
    pid: nginx.workerPid,
    pids: [nginx.process.pid!, nginx.workerPid],
    helperPids: [pub.pid!],
    targets: (k) =>
      Promise.resolve(
        Array.from({ length: k }, () => ({ url: nginx.rtmpUrl(STREAM), protocol: 'rtmp' as const })),
      ),
    stop: async () => {
      await pub.stop('SIGTERM', 3000);
      await nginx.stop();
    },
  };
}

/** Waits until an HTTP-FLV GET of the stream answers 200 (the publish has reached the server). */
async function waitForPublish(url: () => string, pub: ManagedProcess): Promise<void> {
  await waitFor(
    async () => {
      if (!pub.running) throw new Error(`ffmpeg's publish ended: ${pub.readLog(1000)}`);
      const res = await fetch(url(), { signal: AbortSignal.timeout(1000) }).catch(() => null);
      await res?.body?.cancel();
      return res?.status === 200;
    },
    { timeoutMs: 15_000, intervalMs: 250, what: 'the publish to reach node-media-server' },
  );
}
