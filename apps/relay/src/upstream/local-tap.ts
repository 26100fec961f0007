import { randomUUID } from 'node:crypto';
import { FLV_HEADER_SIZE, FlvTag, decodeFlvTag } from '@astral/media';
import { Logger } from '@astral/config';
import type { NmsBroadcast } from 'node-media-server/src/core/context.js';

/**
 * Reads a stream that was published into the local media server (by OBS, ffmpeg or `astral publish`)
 * so the relay can forward it. It subscribes inside the process, as one more FLV player of
 * node-media-server's broadcast for the stream: the FLV tags node-media-server writes once for all its
 * players reach the hub as they are (the header read by decodeFlvTag, the buffer forwarded unchanged),
 * with no loopback socket and no HTTP in between. An internal subscriber (empty `ip`) fires no play
 * events and is not counted as a player by node-media-server.
 */
export class LocalTap {
  private session: { id: string } | null = null;
  private broadcast: NmsBroadcast | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    readonly streamPath: string,
    private readonly findBroadcast: () => NmsBroadcast | undefined,
    /** `wire` is node-media-server's own buffer for the tag (wire form), shared, never to be modified. */
    private readonly onTag: (tag: FlvTag, wire: Buffer) => void,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.closed || this.session) return;
    const broadcast = this.findBroadcast();
    if (!broadcast) {
      this.again('node-media-server has no broadcast for the stream yet');
      return;
    }
    const session = {
      id: `astral-tap-${randomUUID()}`,
      ip: '',
      protocol: 'flv',
      // The forwards carry the source's clock stamps down the tree.
      wantsClock: true,
      streamPath: this.streamPath,
      // Called from inside node-media-server's broadcast loop: nothing may throw back into it.
      sendBuffer: (buffer: Buffer): void => {
        if (this.session !== session) return;
        try {
          // node-media-server hands an FLV player the file header first, then one whole tag per call
          // (wire form: header, body, PreviousTagSize). Each tag is used as it is, body and wire bytes
          // both: no parse into new buffers, no encode again.
          if (buffer.length === FLV_HEADER_SIZE + 4 && buffer.toString('latin1', 0, 3) === 'FLV') return;
          const tag = decodeFlvTag(buffer);
          if (!tag) throw new Error(`node-media-server sent ${buffer.length} bytes that are not one FLV tag`);
          this.onTag(tag, buffer);
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
