import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  FORWARD_PROOF_HEADER,
  NodeKeys,
  generateNodeKeys,
  loadOrCreateNodeKeys,
  signForwardProof,
  signTicketToken,
} from '@astral/identity';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientProxy } from '@nestjs/microservices';
import { RelayStats } from '@astral/contracts';
import { RelayControlClient, claimingBusClient } from '@astral/transport';
import {
  ManagedProcess,
  RedisHandle,
  WaitAbortedError,
  freePort,
  makeTempDir,
  removeTempDir,
  sampleFlvPath,
  spawnAstral,
  startRedis,
  waitFor,
} from '@astral/testing';
import { FlvFilePublisher } from '@astral/media';

export interface TestRelayOptions {
  /** e.g. '2.5mbit'; unset: unlimited. */
  uploadLimit?: string;
  stallMs?: number;
  logLevel?: string;
  /** Extra environment for the relay process (e.g. ASTRAL_HANDSHAKE_TIMEOUT_MS). */
  env?: Record<string, string>;
}

/** The node a forward is admitted for: its id and its key pair (which signs the proofs). */
export interface Downstream {
  nodeId: string;
  keys: NodeKeys;
}

/** A forward admitted on a test relay, as its agent would: a signed token, and the downstream's proofs. */
export interface AdmittedForward {
  ticketId: string;
  token: string;
  url: string;
  downstream: Downstream;
  /** The X-Astral-Proof header of one connection (a fresh proof each call). */
  headers(): Record<string, string>;
}

/** One relay process (no agent), driven over Redis like its agent would. */
export interface TestRelay {
  name: string;
  nodeId: string;
  /** The relay's key pair, from its data directory (the relay loads the same file). */
  keys: NodeKeys;
  dataDir: string;
  logFile: string;
  ports: { rtmp: number; http: number; forward: number; api: number };
  process: ManagedProcess;
  control: RelayControlClient;
  httpFlvUrl(streamId: string): string;
  rtmpUrl(streamId: string): string;
  forwardUrl(streamId: string, token: string): string;
  statsUrl: string;
  metricsUrl: string;
  stats(): Promise<RelayStats>;
  /** Waits until `streamId` at this relay has taken in more than `tags` tags (FLV tags in, from /stats). */
  waitForTagsIn(streamId: string, tags: number, options: { timeoutMs: number; what: string }): Promise<void>;
  /**
   * Admits a forward of `streamId` for `downstream` (default: a fresh node id and key pair) and signs its
   * token with this relay's key, as the agent does; `expiresAt` defaults to a minute from now.
   */
  admit(streamId: string, downstream?: Downstream, expiresAt?: number): Promise<AdmittedForward>;
}

export interface RelayTestbed {
  redis: RedisHandle;
  relays: TestRelay[];
  startRelay(name: string, options?: TestRelayOptions): Promise<TestRelay>;
  /** Authorises a fresh key on `relay` and publishes the sample there in real time (looped). */
  publish(
    relay: TestRelay,
    streamId: string,
    onVideoFrame?: (ts: number) => void,
  ): Promise<{ publisher: FlvFilePublisher; key: string }>;
  /** Makes `down` pull `streamId` from `up` (admit on up, openUpstream on down). */
  pull(down: TestRelay, up: TestRelay, streamId: string): Promise<void>;
  /** Makes `down` keep a standby pull of `streamId` from `up` (admit on up, openUpstream role standby on down). */
  pullStandby(
    down: TestRelay,
    up: TestRelay,
    streamId: string,
    mode?: 'receiving' | 'idle',
  ): Promise<AdmittedForward>;
  logs(maxBytesEach?: number): string;
  stop(): Promise<void>;
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Redis plus relays started with `astral relay`, each in its own temp data dir, on free loopback ports. */
export async function startRelayTestbed(): Promise<RelayTestbed> {
  const root = makeTempDir('astral-relays-');
  const redis = await startRedis();
  const client: ClientProxy = claimingBusClient({ url: redis.url });
  const relays: TestRelay[] = [];
  const publishers: FlvFilePublisher[] = [];

  const startRelay = async (name: string, options: TestRelayOptions = {}): Promise<TestRelay> => {
    const dataDir = join(root, name);
    mkdirSync(dataDir, { recursive: true });
    const nodeId = randomUUID();
    writeFileSync(join(dataDir, 'node-id'), `${nodeId}\n`);
    const keys = loadOrCreateNodeKeys(dataDir);
    const ports = {
      rtmp: await freePort(),
      http: await freePort(),
      forward: await freePort(),
      api: await freePort(),
    };
    const args = ['relay', '--data-dir', dataDir, '--redis', redis.url, '--host', '127.0.0.1'];
    args.push(
      '--rtmp-port',
      String(ports.rtmp),
      '--http-port',
      String(ports.http),
      '--forward-port',
      String(ports.forward),
    );
    args.push('--api-port', String(ports.api), '--upload-limit', options.uploadLimit ?? 'unlimited');
    args.push('--log-level', options.logLevel ?? 'info');
    if (options.stallMs !== undefined) args.push('--stall-ms', String(options.stallMs));
    const logFile = join(root, `${name}.log`);
    const proc = spawnAstral(name, args, {
      logFile,
      ...(options.env && { env: { ...process.env, ...options.env } }),
    });
    const control = new RelayControlClient(client, nodeId, 3000);
    const base = `http://127.0.0.1:${ports.forward}`;
    const relay: TestRelay = {
      name,
      nodeId,
      keys,
      dataDir,
      logFile,
      ports,
      process: proc,
      control,
      httpFlvUrl: (id) => `http://127.0.0.1:${ports.http}/live/${id}.flv`,
      rtmpUrl: (id) => `rtmp://127.0.0.1:${ports.rtmp}/live/${id}`,
      forwardUrl: (id, token) => `${base}/forward/${id}.flv?ticket=${token}`,
      statsUrl: `${base}/stats`,
      metricsUrl: `${base}/metrics`,
      stats: async () => (await (await fetch(`${base}/stats`)).json()) as RelayStats,
      waitForTagsIn: async (streamId, tags, options) => {
        await waitFor(
          async () => (await relay.stats()).streams.some((s) => s.streamId === streamId && s.tagsIn > tags),
          options,
        );
      },
      admit: async (
        streamId,
        downstream = { nodeId: randomUUID(), keys: generateNodeKeys() },
        expiresAt = Date.now() + 60_000,
      ) => {
        const ticketId = randomUUID();
        const token = signTicketToken(keys, {
          ticketId,
          streamId,
          upstreamNodeId: nodeId,
          downstreamNodeId: downstream.nodeId,
          downstreamKey: downstream.keys.publicKey,
          expiresAt,
        });
        await control.admitForward({ ticketId, streamId, downstreamNodeId: downstream.nodeId });
        return {
          ticketId,
          token,
          url: relay.forwardUrl(streamId, token),
          downstream,
          headers: () => ({ [FORWARD_PROOF_HEADER]: signForwardProof(downstream.keys, ticketId, nodeId) }),
        };
      },
    };
    relays.push(relay);
    await waitFor(
      async () => {
        if (!proc.running)
          throw new WaitAbortedError(`${name} exited during start-up: ${proc.readLog(3000)}`);
        if (!(await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) })).ok) return false;
        await control.stats();
        return true;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: `relay ${name} to answer on its forward port and over Redis`,
      },
    );
    return relay;
  };

  return {
    redis,
    relays,
    startRelay,
    publish: async (relay, streamId, onVideoFrame) => {
      const key = randomBytes(18).toString('base64url');
      await relay.control.authorizePublish({ streamId, keyHash: sha256Hex(key) });
      const publisher = new FlvFilePublisher({
        file: sampleFlvPath(),
        url: `${relay.httpFlvUrl(streamId)}?key=${key}`,
        onVideoFrame,
      });
      publisher.on('error', () => undefined);
      publishers.push(publisher);
      await publisher.start();
      return { publisher, key };
    },
    pull: async (down, up, streamId) => {
      const forward = await up.admit(streamId, down);
      await down.control.openUpstream({
        streamId,
        upstreamNodeId: up.nodeId,
        ticketId: forward.ticketId,
        url: forward.url,
      });
    },
    pullStandby: async (down, up, streamId, mode = 'receiving') => {
      const forward = await up.admit(streamId, down);
      await down.control.openUpstream({
        streamId,
        upstreamNodeId: up.nodeId,
        ticketId: forward.ticketId,
        url: forward.url,
        role: 'standby',
        standbyMode: mode,
      });
      return forward;
    },
    logs: (maxBytesEach = 3000) =>
      relays.map((r) => `----- ${r.name} -----\n${r.process.readLog(maxBytesEach)}`).join('\n'),
    stop: async () => {
      await Promise.all(publishers.map((p) => p.stop(2000).catch(() => undefined)));
      await Promise.all(relays.map((r) => r.process.stop('SIGTERM', 10_000)));
      await client.close();
      await redis.stop();
      removeTempDir(root);
    },
  };
}
