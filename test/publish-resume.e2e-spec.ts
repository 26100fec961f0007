import { randomBytes } from 'node:crypto';
import { isVideoFrame } from '@astral/media';
import { FlvTagReader, ffmpegPublishFor, sleep, withLogsOnFailure } from '@astral/testing';
import { RelayTestbed, TestRelay, sha256Hex, startRelayTestbed } from '../bench/lib/relay-testbed';

/**
 * A publisher that drops and comes back within the grace window (OBS reconnecting) resumes the same stream:
 * players at the node and one hop down (which pulls again) stay connected, and the timeline goes on one frame after where it
 * stopped, whatever the new publish's clock says (here it restarts at 0 over HTTP-FLV, then runs 300 s ahead
 * over RTMP). node-media-server alone shifted by the whole previous timeline: a leap for every player.
 */
describe('a publisher that reconnects within the grace window', () => {
  let bed: RelayTestbed;
  let A: TestRelay;
  let B: TestRelay;
  const streamId = 'resume-main';

  beforeAll(async () => {
    bed = await startRelayTestbed();
    A = await bed.startRelay('A');
    B = await bed.startRelay('B');
  }, 60_000);

  afterAll(async () => {
    await bed?.stop();
  }, 60_000);

  it(
    'keeps every player connected and the timestamps continuous, over HTTP-FLV then RTMP',
    () =>
      withLogsOnFailure(
        () => bed.logs(6000),
        async () => {
          const key = randomBytes(12).toString('base64url');
          await A.control.authorizePublish({ streamId, keyHash: sha256Hex(key) });
          const first = ffmpegPublishFor(`${A.httpFlvUrl(streamId)}?key=${key}`, 8);
          await A.waitForTagsIn(streamId, 30, { timeoutMs: 10_000, what: 'the first publish at A' });
          await bed.pull(B, A, streamId);
          await B.waitForTagsIn(streamId, 30, { timeoutMs: 10_000, what: 'the stream at B' });
          const seen: Record<string, number[]> = { A: [], B: [] };
          const readers = await Promise.all(
            (['A', 'B'] as const).map((n) =>
              FlvTagReader.open((n === 'A' ? A : B).httpFlvUrl(streamId), (tag) => {
                if (isVideoFrame(tag)) seen[n].push(tag.timestamp);
              }),
            ),
          );
          expect((await first).code).toBe(0);
          await sleep(1500);
          // The same client comes back over RTMP with a clock 300 s ahead. B's pull stalled meanwhile (its
          // upstream sent nothing for the stall bound): it pulls again, as its agent does on `upstream lost`.
          const second = ffmpegPublishFor(`${A.rtmpUrl(streamId)}?key=${key}`, 6, { tsOffsetS: 300 });
          const tagsBefore = (await A.stats()).streams.find((s) => s.streamId === streamId)!.tagsIn;
          await A.waitForTagsIn(streamId, tagsBefore + 30, {
            timeoutMs: 10_000,
            what: 'the resumed publish at A',
          });
          await bed.pull(B, A, streamId);
          expect((await second).code).toBe(0);
          await sleep(1000);
          for (const r of readers) r.close();
          for (const [node, ts] of Object.entries(seen)) {
            const steps = ts.slice(1).map((t, i) => t - ts[i]);
            const worst = { back: Math.min(0, ...steps), forward: Math.max(...steps) };
            console.log(
              JSON.stringify({ node, frames: ts.length, first: ts[0], last: ts[ts.length - 1], worst }),
            );
            // Both publishes reached the player: 8 s, then most of 6 s.
            expect(ts.length).toBeGreaterThan(250);
            expect({ node, back: worst.back >= 0, forward: worst.forward <= 100 }).toEqual({
              node,
              back: true,
              forward: true,
            });
          }
          for (const r of readers) expect(r.error).toBeNull();
        },
      ),
    90_000,
  );
});
