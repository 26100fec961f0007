import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isVideoFrame, parseFlvFile } from '@astral/media';
import {
  LocalNetwork,
  ManagedProcess,
  sampleFlvPath,
  sleep,
  spawnAstral,
  spawnFfmpegLoopPublisher,
  startLocalNetwork,
} from '@astral/testing';
import { watch } from '../apps/cli/src/commands/demo.command';
import { createStream } from '../apps/cli/src/commands/publish.command';
import { HttpFlvSoakPlayer, RtmpSoakPlayer, SoakPlayer } from '../bench/soak/players';
import { TagTimeline, frameIntervalMs } from '../bench/soak/timeline';

/**
 * A stream runs past every timeout of Node's and of our dependencies that a live stream used to cross: two
 * streams, one published over RTMP by ffmpeg and one by `astral publish` over HTTP-FLV, each relayed over two
 * hops (node1 → node2 → node3), with an HTTP-FLV and an RTMP player at node3, for longer than 300 s (Node's
 * default `requestTimeout`, which cut every stream at 300 s) at the default server settings. Every player
 * must see no gap over 1 s and no timestamp jump over 2 frame intervals, and reconnect never.
 * ASTRAL_LONG_RUN_S sets the length (default 330).
 */
const seconds = Number(process.env.ASTRAL_LONG_RUN_S ?? 330);

describe(`a stream relayed over two hops for ${seconds} s at the default timeouts`, () => {
  let net: LocalNetwork;
  const publishers: ManagedProcess[] = [];
  const players: SoakPlayer[] = [];

  afterAll(async () => {
    for (const p of players) await p.stop();
    await Promise.all(publishers.map((p) => p.stop('SIGTERM', 5000)));
    await net?.stop();
  }, 60_000);

  it(
    'has no gap over 1 s, no timestamp jump, no reconnect, over RTMP and HTTP-FLV, for both publishers',
    async () => {
      const sample = sampleFlvPath();
      const frameMs = frameIntervalMs(
        parseFlvFile(readFileSync(sample))
          .tags.filter(isVideoFrame)
          .map((t) => t.timestamp),
      );
      // node1 can send one copy of each stream, so node3 pulls from node2: two hops.
      net = await startLocalNetwork({
        nodes: [{ uploadLimit: '2.5mbit' }, { uploadLimit: '5mbit' }, { uploadLimit: '5mbit' }],
      });
      const [n1, n2, n3] = net.nodes;
      const streams: { kind: string; streamId: string }[] = [];
      for (const kind of ['rtmp', 'astral']) {
        const created = await createStream(n1.apiUrl, n1.apiToken, `long run ${kind}`);
        const logFile = join(net.logDir, `publisher-${kind}.log`);
        publishers.push(
          kind === 'rtmp'
            ? spawnFfmpegLoopPublisher(`publisher-${kind}`, sample, created.rtmpUrl, logFile)
            : spawnAstral(`publisher-${kind}`, ['publish', sample, '--publish-url', created.publishUrl], {
                logFile,
              }),
        );
        streams.push({ kind, streamId: created.streamId });
      }
      for (const { kind, streamId } of streams) {
        await watch(n2, streamId);
        const at3 = await watch(n3, streamId);
        expect(at3.hops).toBe(2);
        players.push(new HttpFlvSoakPlayer(`${kind}-httpFlv`, at3.play.httpFlv, new TagTimeline(frameMs)));
        players.push(
          new RtmpSoakPlayer(
            `${kind}-rtmp`,
            at3.play.rtmp,
            new TagTimeline(frameMs),
            join(net.logDir, `${kind}-rtmp-player.log`),
          ),
        );
      }
      for (const p of players) await p.start();
      await sleep(seconds * 1000);
      const summaries = Object.fromEntries(
        players.map((p) => [
          p.name,
          { ...p.timeline.summary(), reconnects: p.reconnects, lastError: p.lastError },
        ]),
      );
      console.log(JSON.stringify({ seconds, frameMs, players: summaries }, null, 1));
      for (const [name, s] of Object.entries(summaries)) {
        expect({ name, frames: s.frames >= (seconds * 1000 * 0.95) / frameMs }).toEqual({
          name,
          frames: true,
        });
        expect({ name, gapsOver1s: s.gapsOver1s, reconnects: s.reconnects, sessions: s.sessions }).toEqual({
          name,
          gapsOver1s: 0,
          reconnects: 0,
          sessions: 1,
        });
        expect({ name, leap: s.maxTimestampLeapMs <= 2 * frameMs }).toEqual({ name, leap: true });
      }
      const relayLogs = [n2, n3].map((n) => readFileSync(n.logFile, 'utf8')).join('\n');
      expect(relayLogs).not.toMatch(/local republish interrupted|HTTP 408/);
    },
    (seconds + 180) * 1000,
  );
});
