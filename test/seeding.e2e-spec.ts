import { readFileSync } from 'node:fs';
import { ListedStream, StreamInfo } from '@astral/contracts';
import {
  LocalNetwork,
  LocalNode,
  ManagedProcess,
  agentApi,
  httpJson,
  sampleFlvPath,
  spawnFfmpegLoopPublisher,
  startLocalNetwork,
  waitFor,
  withLogsOnFailure,
} from '@astral/testing';
import { join } from 'node:path';
import { watch } from '../apps/cli/src/commands/demo.command';
import { createStream } from '../apps/cli/src/commands/publish.command';

/** One copy of the ~1.05 Mbit/s sample fits in 1.5 Mbit/s; two do not. */
const ONE_COPY = '1.5mbit';
const IDLE_MS = 8000;

/**
 * Demand-driven seeding with real processes: node1 publishes stream A and can upload one copy, which node2
 * holds; node2 can upload one more. Node3 runs `--seed all`: it starts carrying A once the directory says A's
 * carriers need capacity, serves node4 (which uploads nothing), and drops A once node4 has left and A has had
 * no players or forwards for the idle time. Its twin: stream B, sourced at node5 with room for many copies, is
 * never seeded.
 */
describe('a seeder with the "all" policy', () => {
  let net: LocalNetwork;
  const publishers: ManagedProcess[] = [];
  let streamA: string;
  let streamB: string;

  const info = (streamId: string) =>
    httpJson<StreamInfo>('GET', `${net.directoryUrl}/api/streams/${streamId}`);
  const carried = (n: LocalNode) => agentApi<ListedStream[]>(n, 'GET', '/api/streams');
  const carries = async (n: LocalNode, streamId: string) =>
    (await carried(n)).find((s) => s.streamId === streamId);
  /** The node's log lines that say `msg` about `streamId`. */
  const logLines = (n: LocalNode, msg: string, streamId: string) =>
    readFileSync(n.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes(msg) && l.includes(streamId));

  beforeAll(async () => {
    net = await startLocalNetwork({
      nodes: [
        { uploadLimit: ONE_COPY },
        { uploadLimit: ONE_COPY },
        { uploadLimit: '6mbit', env: { ASTRAL_SEED: 'all', ASTRAL_SEED_IDLE_MS: String(IDLE_MS) } },
        { uploadLimit: '0' },
        { uploadLimit: '20mbit' },
      ],
      env: { ASTRAL_PREVIEWS: 'off' },
    });
    // The seeder joins once node2 holds A: stopped now, started in the test.
    await net.nodes[2].stop();
    const [n1, , , , n5] = net.nodes;
    const a = await createStream(n1.apiUrl, n1.apiToken, 'stream A: carriers full');
    const b = await createStream(n5.apiUrl, n5.apiToken, 'stream B: room to spare');
    streamA = a.streamId;
    streamB = b.streamId;
    for (const [name, created] of [
      ['A', a],
      ['B', b],
    ] as const)
      publishers.push(
        spawnFfmpegLoopPublisher(
          `publisher-${name}`,
          sampleFlvPath(),
          created.rtmpUrl,
          join(net.logDir, `publisher-${name}.log`),
        ),
      );
  }, 180_000);

  afterAll(async () => {
    await Promise.all(publishers.map((p) => p.stop('SIGTERM', 5000)));
    await net?.stop();
  }, 60_000);

  it(
    'starts carrying a stream whose carriers are full, and drops it once its viewers left; never one with room',
    () =>
      withLogsOnFailure(
        () => net.logs(30_000),
        async () => {
          const [n1, n2, seeder, n4] = net.nodes;
          const atN2 = await watch(n2, streamA);
          expect(atN2.upstreamNodeId).toBe(n1.nodeId);
          const judged = await waitFor(
            async () => {
              const [a, b] = await Promise.all([info(streamA), info(streamB)]);
              return a.needsCapacity && !b.needsCapacity && b.status === 'live' ? { a, b } : undefined;
            },
            {
              timeoutMs: 30_000,
              intervalMs: 500,
              what: 'the directory to judge A short of capacity and B not',
            },
          );
          expect(judged.a.carriers).toBe(2);

          await seeder.start();
          const seeded = await waitFor(() => carries(seeder, streamA), {
            timeoutMs: 30_000,
            intervalMs: 500,
            what: 'the seeder to carry A',
          });
          expect(seeded).toMatchObject({ seed: true, origin: 'upstream', upstreamNodeId: n2.nodeId });
          expect(logLines(seeder, 'seeder started seeding a stream', streamA)[0]).toMatch(/need capacity/);

          // Node4 cannot upload: it is the seeder's viewer, the only node with room left.
          const atN4 = await watch(n4, streamA);
          expect(atN4.upstreamNodeId).toBe(seeder.nodeId);
          await waitFor(async () => !(await info(streamA)).needsCapacity, {
            timeoutMs: 20_000,
            intervalMs: 500,
            what: "A's carriers to have room once the seeder carries it",
          });
          // Serving node4, the seeder keeps A past its idle time.
          await new Promise((r) => setTimeout(r, IDLE_MS + 4000));
          expect(await carries(seeder, streamA)).toBeDefined();
          expect(await carries(seeder, streamB)).toBeUndefined();

          await agentApi(n4, 'DELETE', `/api/streams/${streamA}/watch`);
          await waitFor(async () => (await carries(seeder, streamA)) === undefined, {
            timeoutMs: IDLE_MS + 30_000,
            intervalMs: 250,
            what: 'the seeder to drop A once idle',
          });
          expect(logLines(seeder, 'seeder stopped seeding a stream', streamA)[0]).toMatch(
            /no players or forwards/,
          );
          // The twin: B had room all along and was never seeded.
          expect(logLines(seeder, 'seeder started seeding a stream', streamB)).toEqual([]);
          expect(await carries(seeder, streamB)).toBeUndefined();
        },
      ),
    180_000,
  );
});
