import { randomUUID } from 'node:crypto';
import { FlvParser, FlvTag } from '@astral/media';
import { Logger } from '@astral/config';
import type { NmsBroadcast } from 'node-media-server/src/core/context.js';

/**
 * Reads a stream that was published into the local media server (by OBS, ffmpeg or `astral publish`)
 * so the relay can forward it. It subscribes inside the process, as one more FLV player of
 * node-media-server's broadcast for the stream: the FLV tags node-media-server writes for its players
 * are handed to the relay's parser directly, with no loopback socket and no HTTP in between. An internal
 * subscriber (empty `ip`) fires no play events and is not counted as a player by node-media-server.
 */
export class LocalTap {
  private session: { id: string } | null = null;
  private broadcast: NmsBroadcast | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    readonly streamPath: string,
    private readonly findBroadcast: () => NmsBroadcast | undefined,
    private readonly onTag: (tag: FlvTag) => void,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.closed || this.session) return;
    const broadcast = this.findBroadcast();
    if (!broadcast) {
      this.again('node-media-server has no broadcast for the stream yet');
      return;
    }
    const parser = new FlvParser();
    const session = {
      id: `astral-tap-${randomUUID()}`,
      ip: '',
      protocol: 'flv',
      streamPath: this.streamPath,
      // Called from inside node-media-server's broadcast loop: nothing may throw back into it.
      sendBuffer: (buffer: Buffer): void => {
        if (this.session !== session) return;
        try {
          for (const tag of parser.push(buffer)) this.onTag(tag);
        } catch (err) {
          this.again(`could not read the local stream: ${(err as Error).message}`);
        }
      },
    };
    this.session = session;
    this.broadcast = broadcast;
    const refused = broadcast.postPlay(session);
    if (refused) this.again(`node-media-server refused the tap: ${refused}`);
  }

  private detach(): void {
    if (this.session && this.broadcast) this.broadcast.donePlay(this.session);
    this.session = null;
    this.broadcast = null;
  }

  private again(reason: string): void {
    this.detach();
    if (this.closed || this.retry) return;
    this.log.debug({ reason }, 'local tap interrupted; attaching again');
    this.retry = setTimeout(() => {
      this.retry = null;
      this.start();
    }, 200);
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.detach();
  }
}
