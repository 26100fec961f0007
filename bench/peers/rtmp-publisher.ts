import { readFileSync } from 'node:fs';
import { FlvTagType, isMetadata, isVideoFrame, loopTimestamp, prepareFlvLoop } from '@astral/media';
import { sleep } from '@astral/testing';
import { RTMP_AUDIO, RTMP_DATA, RTMP_VIDEO, amfString } from '../lib/rtmp-chunks';
import { RtmpSession } from './rtmp-session';

/**
 * Publishes an FLV file over RTMP in real time, looped, paced exactly like FlvFilePublisher (the Astral
 * bench's publisher: same file, same loop timestamps), and reports each video frame's timestamp with the
 * performance.now() at which its bytes were handed to the socket: the write time a player's arrival is
 * matched to. For a peer (nginx-rtmp) that takes no HTTP-FLV publish.
 */
export class RtmpLoopPublisher {
  framesSent = 0;
  private stopped = false;
  private pump: Promise<void> | null = null;

  private constructor(private readonly session: RtmpSession) {}

  static async start(
    file: string,
    url: string,
    onVideoFrame: (timestamp: number, writtenAtMs: number) => void,
  ): Promise<RtmpLoopPublisher> {
    const loop = prepareFlvLoop(readFileSync(file), file);
    const session = await RtmpSession.open(url, 'publish');
    const p = new RtmpLoopPublisher(session);
    const typeOf = (t: FlvTagType): number =>
      t === FlvTagType.Audio ? RTMP_AUDIO : t === FlvTagType.Video ? RTMP_VIDEO : RTMP_DATA;
    for (const tag of loop.preamble)
      session.send(
        typeOf(tag.type),
        0,
        isMetadata(tag) ? Buffer.concat([amfString('@setDataFrame'), tag.data]) : tag.data,
      );
    p.pump = (async () => {
      const t0 = performance.now();
      for (let pass = 0; !p.stopped; pass++)
        for (const tag of loop.media) {
          if (p.stopped || session.ended) return;
          const ts = loopTimestamp(loop, tag, pass);
          const wait = t0 + ts - performance.now();
          if (wait > 1) await sleep(wait);
          session.send(typeOf(tag.type), ts, tag.data);
          if (isVideoFrame(tag)) {
            p.framesSent++;
            onVideoFrame(ts, performance.now());
          }
          await session.drained();
        }
    })();
    return p;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.session.close();
    await this.pump;
  }
}
