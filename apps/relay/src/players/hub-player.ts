import type { Logger } from '@astral/config';
import { FlvTag, FlvTagType, encodeFlvHeader, isClockTag, wireOf } from '@astral/media';
import type { StreamConsumer } from '../hub/stream-consumer';
import type { StreamHub } from '../hub/stream-hub';
import { PlayerQueue, PlayerQueueLimits, classifyFlvTag } from '../media-server/player-queue';
import type { PlayerLease } from './player-budget';

/** The FLV file header (audio and video) and PreviousTagSize0, as every player gets it first. */
const FLV_FILE_HEADER = encodeFlvHeader(true, true);

/** The byte stream to one player: a socket (HTTP-FLV) or a WebSocket over one (WS-FLV). */
export interface PlayerWire {
  /** Bytes written and not yet taken by the kernel. */
  queuedBytes(): number;
  write(buffer: Buffer): void;
  /** Holds writes until `uncork`: one turn's tags leave in one writev. */
  cork(): void;
  uncork(): void;
  /** The stream ended: what is queued still leaves, then the connection closes. */
  end(): void;
  /** The player is dropped (it stopped reading): closed at once. */
  destroy(): void;
  onClose(fn: () => void): void;
}

/** What a player watches: the stream's hub. */
export type PlayedStream = Pick<StreamHub, 'attach' | 'detach'>;

export interface HubPlayerOptions {
  kind: 'HTTP-FLV' | 'WS-FLV';
  remote: string;
  streamPath: string;
  /** Asked for the source's onAstralClock stamps (`?clock=1`); no other player ever sees one. */
  wantsClock: boolean;
  lease: PlayerLease;
  limits: PlayerQueueLimits;
  log: Logger;
}

/**
 * One HTTP-FLV or WS-FLV player, served by the relay from the stream's hub: the FLV header, the hub's join
 * sequence, then every live tag, each as the wire buffer the hub already holds (never encoded again), bounded
 * by a PlayerQueue and charged to its lease. Writes of one event-loop turn are corked into one writev. The
 * player leaves when its socket closes, when its queue gives up on it, or when the stream ends (hub.close).
 */
export class HubPlayer implements StreamConsumer {
  private readonly queue: PlayerQueue;
  private hub: PlayedStream | null = null;
  private corked = false;
  private closed = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.wire.uncork();
  };

  constructor(
    private readonly wire: PlayerWire,
    private readonly options: HubPlayerOptions,
  ) {
    const { lease, kind, remote, streamPath, log } = options;
    this.queue = new PlayerQueue(
      {
        queuedBytes: () => wire.queuedBytes(),
        write: (b) => {
          lease.sent(b.length);
          wire.write(b);
        },
        close: () => wire.destroy(),
      },
      options.limits,
      classifyFlvTag,
    );
    this.queue.onCutback = (queued) =>
      log.warn({ remote, streamPath, queued }, `${kind} player lagging: cut back to the next keyframe`);
    this.queue.onDisconnect = (reason) =>
      log.warn({ remote, streamPath, reason }, `${kind} player disconnected`);
    wire.onClose(() => this.leave());
  }

  /** Joins the hub: the header and the join sequence now, the live tags as they come. */
  start(hub: PlayedStream): void {
    if (this.closed) return;
    this.hub = hub;
    const join = hub.attach(this);
    this.turn();
    this.queue.offer(FLV_FILE_HEADER);
    for (const tag of join) this.pass(tag, wireOf(tag));
  }

  deliver(tag: FlvTag, wire: Buffer): void {
    this.pass(tag, wire);
  }

  /** The stream ended on this relay. */
  close(_reason: string): void {
    if (this.closed) return;
    this.leave();
    this.wire.end();
  }

  get droppedTags(): number {
    return this.queue.droppedTags;
  }

  private pass(tag: FlvTag, wire: Buffer): void {
    if (this.closed) return;
    if (tag.type === FlvTagType.Script) {
      if (!this.options.wantsClock && isClockTag(tag)) return;
    } else if (tag.data.length < (tag.type === FlvTagType.Video ? 5 : 2)) {
      return; // no frame a player can decode (node-media-server refused these for its players too)
    }
    this.turn();
    this.queue.offer(wire);
  }

  private turn(): void {
    if (this.corked) return;
    this.corked = true;
    this.wire.cork();
    process.nextTick(this.uncork);
  }

  private leave(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.lease.release();
    this.hub?.detach(this);
    this.hub = null;
  }
}

/** The hub players of each stream, for the stats' viewer counts. */
export class HubPlayerRoster {
  private readonly byStream = new Map<string, Set<HubPlayer>>();

  add(streamId: string, player: HubPlayer): () => void {
    let set = this.byStream.get(streamId);
    if (!set) {
      set = new Set();
      this.byStream.set(streamId, set);
    }
    set.add(player);
    const own = set;
    return () => {
      own.delete(player);
      if (own.size === 0 && this.byStream.get(streamId) === own) this.byStream.delete(streamId);
    };
  }

  count(streamId: string): number {
    return this.byStream.get(streamId)?.size ?? 0;
  }
}
