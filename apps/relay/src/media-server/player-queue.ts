/**
 * The bound on one local player (RTMP, HTTP-FLV, WS-FLV): node-media-server writes every tag to every player
 * and never looks at what a player has left unread, so a player that stops reading would make the relay
 * buffer without end. Past half the bound the player is cut back: its audio and video are dropped until the
 * next keyframe that finds the queue under half again; past the whole bound, cut back for longer than
 * `maxCutbackMs`, or cut back a second time within `repeatWindowMs`, it is disconnected with a reason. Sequence headers and metadata always pass.
 */
export type MediaKind = 'keyframe' | 'frame' | 'header';

export interface PlayerSink {
  /** Bytes written to the player and not yet taken by the kernel. */
  queuedBytes(): number;
  write(buffer: Buffer): void;
  close(reason: string): void;
}

export interface PlayerQueueLimits {
  maxQueuedBytes: number;
  maxCutbackMs: number;
  /** A second cutback within this window disconnects: the player cannot keep up with the stream. */
  repeatWindowMs?: number;
}

export class PlayerQueue {
  private cutbackSince: number | null = null;
  private lastCutbackAt: number | null = null;
  private closed = false;
  droppedTags = 0;
  cutbacks = 0;
  bytesWritten = 0;
  onCutback?: (queuedBytes: number) => void;
  onDisconnect?: (reason: string) => void;

  constructor(
    private readonly sink: PlayerSink,
    private readonly limits: PlayerQueueLimits,
    private readonly classify: (buffer: Buffer) => MediaKind,
    private readonly now: () => number = Date.now,
  ) {}

  offer(buffer: Buffer): void {
    if (this.closed) return;
    const queued = this.sink.queuedBytes();
    if (queued > this.limits.maxQueuedBytes) {
      return this.disconnect(
        `player is not reading: ${queued} bytes queued (limit ${this.limits.maxQueuedBytes})`,
      );
    }
    const kind = this.classify(buffer);
    if (kind !== 'header') {
      const half = this.limits.maxQueuedBytes / 2;
      if (this.cutbackSince === null && queued > half) {
        const now = this.now();
        const window = this.limits.repeatWindowMs ?? 30_000;
        if (this.lastCutbackAt !== null && now - this.lastCutbackAt < window) {
          return this.disconnect(`player fell behind twice within ${window} ms (${queued} bytes queued)`);
        }
        this.cutbackSince = now;
        this.lastCutbackAt = now;
        this.cutbacks += 1;
        this.onCutback?.(queued);
      }
      if (this.cutbackSince !== null) {
        if (kind === 'keyframe' && queued <= half) {
          this.cutbackSince = null;
        } else {
          if (this.now() - this.cutbackSince > this.limits.maxCutbackMs) {
            return this.disconnect(`player has not caught up for ${this.limits.maxCutbackMs} ms`);
          }
          this.droppedTags += 1;
          return;
        }
      }
    }
    this.bytesWritten += buffer.length;
    this.sink.write(buffer);
  }

  private disconnect(reason: string): void {
    this.closed = true;
    this.onDisconnect?.(reason);
    this.sink.close(reason);
  }
}

/** Kind of an FLV tag in wire form (tag header, body, PreviousTagSize), as node-media-server hands FLV players. */
export function classifyFlvTag(buffer: Buffer): MediaKind {
  if (buffer.length < 13) return 'header'; // the file header, or nothing a cutback should drop
  return classifyBody(buffer[0] & 0x1f, buffer, 11);
}

/**
 * Kind of an RTMP message as node-media-server writes it to RTMP players (Rtmp.createMessage: a type-0 chunk
 * header on a one-byte basic header, then the FLV tag body; an extended timestamp adds 4 bytes).
 */
export function classifyRtmpMessage(buffer: Buffer): MediaKind {
  if (buffer.length < 13 || buffer[0] >> 6 !== 0 || (buffer[0] & 0x3f) < 2) return 'header';
  const extended = buffer.readUIntBE(1, 3) === 0xffffff;
  return classifyBody(buffer[7], buffer, extended ? 16 : 12);
}

function classifyBody(type: number, buffer: Buffer, body: number): MediaKind {
  if (buffer.length < body + 2) return 'header';
  if (type === 9) {
    const b = buffer[body];
    if (b & 0x80) {
      // Enhanced RTMP: packet type in the low nibble, 0 = sequence start, 4 = metadata.
      const packetType = b & 0x0f;
      if (packetType === 0 || packetType === 4 || packetType === 5) return 'header';
      return ((b >> 4) & 0x07) === 1 ? 'keyframe' : 'frame';
    }
    if ((b & 0x0f) === 7 && buffer[body + 1] === 0) return 'header';
    return b >> 4 === 1 ? 'keyframe' : 'frame';
  }
  if (type === 8) return buffer[body] >> 4 === 10 && buffer[body + 1] === 0 ? 'header' : 'frame';
  return 'header';
}
