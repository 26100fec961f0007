import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { AstralError, RelayPatterns, WireReply, addressed, fromSender } from '@astral/contracts';
import { FlvTagReader, processAlive, sleep, waitFor, withLogsOnFailure } from '@astral/testing';
import { rssMbSync } from '../bench/lib/proc-sampler';
import { RelayTestbed, TestRelay, startRelayTestbed } from '../bench/lib/relay-testbed';
import {
  deepJson,
  flood,
  hugeHeader,
  randomGarbage,
  sendRaw,
  slowloris,
  statusOf,
} from './hostile-input-probes';

/**
 * Hostile input on a relay's forward port and on its Redis control channels, against a real relay
 * process with a stream flowing through it. A downstream forward stays open through every attack and
 * must keep receiving frames (with an idle timeout of 3 s, so its writes must count as activity).
 */
const LIMITS = {
  ASTRAL_HANDSHAKE_TIMEOUT_MS: '1500',
  ASTRAL_IDLE_TIMEOUT_MS: '3000',
  ASTRAL_MAX_CONNECTIONS_PER_ADDRESS: '20',
};

describe('hostile input: forward port and relay control', () => {
  let bed: RelayTestbed;
  let A: TestRelay;
  let redis: Redis;
  let watcher: FlvTagReader;
  let rssBefore = 0;
  const saved: Record<string, string | undefined> = {};
  const streamId = 'hostile-forward';

  beforeAll(async () => {
    for (const [k, v] of Object.entries(LIMITS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    bed = await startRelayTestbed();
    A = await bed.startRelay('relayA');
    await bed.publish(A, streamId);
    await waitFor(
      async () => (await A.stats()).streams.find((s) => s.streamId === streamId && s.tagsIn > 60),
      {
        timeoutMs: 15_000,
        what: 'the stream at A',
      },
    );
    const forward = await A.admit(streamId);
    watcher = await FlvTagReader.open(forward.url, undefined, forward.headers());
    await watcher.waitForFrames(10, 10_000);
    redis = new Redis(bed.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    rssBefore = rssMbSync(A.process.pid!);
  }, 90_000);

  afterAll(async () => {
    watcher?.close();
    redis?.disconnect();
    await bed?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }, 60_000);

  const withLogs = (body: () => Promise<void>): Promise<void> =>
    withLogsOnFailure(() => bed.logs(6000), body);
  const healthz = async (): Promise<number> =>
    (await fetch(`http://127.0.0.1:${A.ports.forward}/healthz`, { signal: AbortSignal.timeout(3000) }))
      .status;
  const relayLog = (): string => readFileSync(A.logFile, 'utf8');

  it('answers `GET http://[ HTTP/1.1` with 400 and a reason, logs it, and keeps serving; a valid forward with a ticket still works', async () => {
    await withLogs(async () => {
      const ex = await sendRaw(A.ports.forward, 'GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      expect(statusOf(ex)).toBe(400);
      expect(ex.text).toMatch(/not a valid URL path/);
      expect(processAlive(A.process.pid!)).toBe(true);
      expect(await healthz()).toBe(200);
      await waitFor(() => relayLog().includes('forward port: request refused'), {
        timeoutMs: 5000,
        what: 'the refusal in the relay log',
      });
      // Twin: a well-formed forward request with a ticket gets the stream.
      const forward = await A.admit(streamId);
      const reader = await FlvTagReader.open(forward.url, undefined, forward.headers());
      await reader.waitForFrames(5, 10_000);
      reader.close();
      // A bad stream id in the path is a 400 too, not a throw.
      const bad = await sendRaw(A.ports.forward, 'GET /forward/..%2F..%2Fx.flv HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(statusOf(bad)).toBe(400);
    });
  }, 60_000);

  it('answers random bytes with 400 and a 1 MiB header with 431, not a reset', async () => {
    await withLogs(async () => {
      for (let i = 0; i < 5; i += 1) {
        const ex = await sendRaw(A.ports.forward, randomGarbage(64 * 1024));
        // The parser may give up on the first bytes (400) or the peer's close may win the race; never a crash.
        if (ex.text.length > 0) expect(statusOf(ex)).toBe(400);
      }
      for (let i = 0; i < 3; i += 1)
        expect(statusOf(await hugeHeader(A.ports.forward, '/healthz'))).toBe(431);
      expect(await healthz()).toBe(200);
    });
  }, 60_000);

  it('closes a slowloris past the handshake timeout, while a normal request is answered', async () => {
    await withLogs(async () => {
      const [slow, normal] = await Promise.all([slowloris(A.ports.forward, 8000), sleep(300).then(healthz)]);
      expect(normal).toBe(200);
      expect(slow.closedByServer).toBe(true);
      expect(slow.closedAfterMs).toBeGreaterThanOrEqual(1400);
      expect(slow.closedAfterMs).toBeLessThan(4500);
      expect(statusOf(slow)).not.toBe(200);
    });
  }, 30_000);

  it('refuses connections past the per-address cap, and serves a normal request once the flood ends', async () => {
    await withLogs(async () => {
      const { refused, held } = await flood(A.ports.forward, 60);
      // The watcher holds one of the 20 slots.
      expect(held).toBeLessThanOrEqual(19);
      expect(refused).toBeGreaterThanOrEqual(41);
      await waitFor(() => relayLog().includes('connection refused'), {
        timeoutMs: 5000,
        what: 'the refusal in the relay log',
      });
      expect(await healthz()).toBe(200);
    });
  }, 30_000);

  it('refuses garbage, deep, huge and ill-shaped Redis messages with a log line (and an error reply to a request id); a real request is answered', async () => {
    await withLogs(async () => {
      // On A's own sender channel, so that the messages reach the screen (a channel naming no sender is refused before it).
      const channel = fromSender(addressed(RelayPatterns.GetStats, A.nodeId), A.nodeId);
      const replies: WireReply[] = [];
      const sub = redis.duplicate();
      await sub.subscribe(`${channel}.reply`);
      sub.on('message', (_ch: string, msg: string) => replies.push(JSON.parse(msg) as WireReply));
      const ids = { deep: randomUUID(), huge: randomUUID(), shape: randomUUID() };
      await redis.publish(channel, '\u0000\u00ffnot json at all');
      await redis.publish(channel, randomGarbage(4096));
      await redis.publish(channel, `{"pattern":"${channel}","data":${deepJson(3000)},"id":"${ids.deep}"}`);
      await redis.publish(
        channel,
        `{"pattern":"${channel}","data":"${'x'.repeat(1024 * 1024)}","id":"${ids.huge}"}`,
      );
      await redis.publish(channel, JSON.stringify({ pattern: 42, data: {}, id: ids.shape }));
      await redis.publish(channel, '[1,2,3]');
      await waitFor(() => replies.length >= 3, {
        timeoutMs: 5000,
        what: 'error replies to the three requests with an id',
      });
      for (const id of Object.values(ids)) {
        const reply = replies.find((r) => r.id === id);
        expect(reply?.err?.status).toBe(400);
        expect(reply?.err?.message).toMatch(/^refused: /);
      }
      await sub.quit();
      // A valid packet with a bad payload gets the validation error, naming the fields.
      const bad = await A.control
        .admitForward({ ticketId: 'nope', streamId: 'X', downstreamNodeId: 'y' })
        .then(
          () => null,
          (err: unknown) => err,
        );
      expect(bad).toBeInstanceOf(AstralError);
      expect((bad as AstralError).code).toBe('bad-request');
      expect((bad as AstralError).message).toMatch(/invalid message: .*ticketId/);
      // Twin: the same channel answers a real request.
      expect((await A.control.stats()).nodeId).toBe(A.nodeId);
      const log = relayLog();
      expect(log).toMatch(/redis message refused.*nested deeper|nested deeper.*redis message refused/);
      expect(log).toMatch(/over the 262144-byte limit/);
      expect(log).toMatch(/control request refused/);
    });
  }, 60_000);

  it('is alive afterwards, its RSS grew less than 32 MB, and the forward opened before the attacks kept flowing', async () => {
    await withLogs(async () => {
      expect(processAlive(A.process.pid!)).toBe(true);
      expect(A.process.running).toBe(true);
      const grown = rssMbSync(A.process.pid!) - rssBefore;
      console.log(JSON.stringify({ relayRssBeforeMb: rssBefore, relayRssGrowthMb: grown }));
      expect(grown).toBeLessThan(32);
      const frames = watcher.framesReceived;
      await sleep(2000);
      expect(watcher.ended).toBe(false);
      expect(watcher.framesReceived).toBeGreaterThan(frames + 20);
    });
  }, 30_000);
});
