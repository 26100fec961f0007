import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlvTag, FlvTagType, isKeyframe, isMetadata, isSequenceHeader, parseFlvFile } from '@astral/media';
import { createLogger } from '@astral/config';
import { sampleFlvPath, waitFor } from '@astral/testing';
import { MediaServer } from '../media-server/media-server';
import { LocalRepublisher } from './local-republisher';
import { LocalTap } from './local-tap';

const log = createLogger('relay', 'test', 'silent');
const STREAM = 'relayed-1';

/** The sample's opening: metadata, the sequence headers, and the media tags of its first two GOPs. */
function sampleTags(): { headers: FlvTag[]; media: FlvTag[] } {
  const { tags } = parseFlvFile(readFileSync(sampleFlvPath()));
  const headers = tags.filter((t) => isMetadata(t) || isSequenceHeader(t)).slice(0, 3);
  const media = tags.filter((t) => !isMetadata(t) && !isSequenceHeader(t) && t.type !== FlvTagType.Script);
  const keyframes = media.flatMap((t, i) => (isKeyframe(t) ? [i] : []));
  return { headers, media: media.slice(keyframes[0], keyframes[2]) };
}

/**
 * A relayed stream republished into a real node-media-server broadcast (no listeners started), watched by
 * the relay's own LocalTap as its one FLV player.
 */
describe('LocalRepublisher', () => {
  let dataDir: string;
  let media: MediaServer;
  let opened: number;
  let republisher: LocalRepublisher;
  let tap: LocalTap | null;
  let watched: FlvTag[];
  const { headers, media: frames } = sampleTags();

  const watch = (): void => {
    const own = watched;
    tap = new LocalTap(
      media.streamPath(STREAM),
      () => media.broadcast(STREAM),
      (tag) => own.push(tag),
      log,
    );
    tap.start();
  };

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'astral-republisher-'));
    media = new MediaServer(
      {
        host: '127.0.0.1',
        rtmpPort: 0,
        httpPort: 0,
        dataDir,
        limits: {
          maxConnections: 10,
          maxPerAddress: 10,
          handshakeTimeoutMs: 1000,
          idleTimeoutMs: 1000,
        },
        playerQueueBytes: 8 * 1024 * 1024,
        publishGraceMs: 0,
      },
      log,
      { onPublishStart: () => undefined, onPublishEnd: () => undefined },
      {
        admit: () => ({
          lease: {
            streamId: STREAM,
            counted: false,
            placed: false,
            admittedBps: 0,
            sent: () => undefined,
            release: () => undefined,
          },
        }),
      },
      () => undefined,
    );
    opened = 0;
    watched = [];
    tap = null;
    const joinSequence = [...headers, ...frames.slice(0, 3)];
    republisher = new LocalRepublisher(
      () => {
        opened += 1;
        return media.openLocalPublish(STREAM);
      },
      () => joinSequence,
      log,
    );
  });

  afterEach(async () => {
    tap?.close();
    republisher.close('test over');
    await media.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('publishes the join sequence at start, then each tag, to the local players', async () => {
    republisher.start();
    expect(media.broadcast(STREAM)?.publisher).toBeTruthy();
    watch(); // a player joining now gets node-media-server's own join: headers and the GOP so far
    for (const tag of frames.slice(3)) republisher.deliver(tag);
    await waitFor(() => watched.length >= headers.length + frames.length, { timeoutMs: 5000, intervalMs: 5 });
    const bodies = (tags: FlvTag[]): string[] => tags.map((t) => `${t.type}@${t.timestamp}:${t.data.length}`);
    expect(bodies(watched.filter((t) => !isMetadata(t) && !isSequenceHeader(t)))).toEqual(bodies(frames));
    const byType = (tags: FlvTag[]): Buffer[] => [...tags].sort((x, y) => x.type - y.type).map((t) => t.data);
    expect(byType(watched.filter(isSequenceHeader))).toEqual(byType(headers.filter(isSequenceHeader)));
    expect(republisher.rejectedTags).toBe(0);
  });

  it('opens one publish for the stream’s life: start again does nothing', () => {
    republisher.start();
    republisher.start();
    expect(opened).toBe(1);
  });

  it('ignores tags before start and after close', async () => {
    republisher.deliver(frames[0]);
    expect(media.broadcast(STREAM)).toBeUndefined();
    republisher.start();
    republisher.close('the node stopped watching');
    await waitFor(() => !media.broadcast(STREAM)?.publisher, {
      timeoutMs: 5000,
      intervalMs: 5,
      what: 'the publish to end',
    });
    republisher.deliver(frames[1]);
    expect(republisher.rejectedTags).toBe(0);
  });

  it('skips a tag node-media-server cannot read, counts it, and goes on', async () => {
    republisher.start();
    watch();
    const before = watched.length;
    republisher.deliver({
      type: FlvTagType.Video,
      timestamp: 10_000,
      streamId: 0,
      data: Buffer.from([0x27, 0x01]),
    });
    const next = { ...frames[frames.length - 1], timestamp: 10_040 };
    republisher.deliver(next);
    await waitFor(() => watched.length > before, { timeoutMs: 5000, intervalMs: 5 });
    expect(republisher.rejectedTags).toBe(1);
    expect(watched[watched.length - 1].data.equals(next.data)).toBe(true);
  });
});
