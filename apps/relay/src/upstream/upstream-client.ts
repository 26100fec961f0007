import http, { ClientRequest, IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  FlvParser,
  FlvTag,
  FlvTagType,
  isKeyframe,
  isSequenceHeader,
  readCloseTag,
  RelayedTimeline,
  isClockTag,
} from '@astral/media';

import { Logger } from '@astral/config';
import { FORWARD_PROOF_HEADER, NodeKeys, signForwardProof } from '@astral/identity';

/** Timestamps further than this from the last one belong to another timeline (not a replay of ours). */
const FOREIGN_TIMELINE_MS = 5000;

export interface UpstreamClientEvents {
  onTag(tag: FlvTag): void;
  onLost(reason: string, upstreamNodeId: string): void;
}

/** One HTTP pull from one upstream's forward server. */
class Pull {
  private readonly req: ClientRequest;
  private readonly parser = new FlvParser();
  private stallTimer: NodeJS.Timeout | null = null;
  /** performance.now() of the last byte from the upstream (or of the request). */
  private lastDataAt = performance.now();
  private closed = false;
  bytesIn = 0;

  constructor(
    readonly url: string,
    readonly upstreamNodeId: string,
    /** The proof of possession of this connection (a fresh one per pull: the upstream takes each once). */
    proof: string,
    private readonly stallMs: number,
    private readonly onTags: (pull: Pull, tags: FlvTag[]) => void,
    private readonly onLost: (pull: Pull, reason: string) => void,
  ) {
    this.req = http.get(url, { headers: { [FORWARD_PROOF_HEADER]: proof } }, (res) => this.onResponse(res));
    this.req.on('error', (err) => this.lose(`upstream connection failed: ${err.message}`));
    // One check for both bounds: twice the stall bound until the first byte (name lookup, connect and the
    // answer on a busy network), the stall bound after it.
    this.armStall(stallMs * 2);
  }

  private onResponse(res: IncomingMessage): void {
    if (res.statusCode !== 200) {
      res.resume();
      this.lose(`upstream answered HTTP ${res.statusCode}`);
      return;
    }
    res.socket.setNoDelay(true);
    res.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      this.bytesIn += chunk.length;
      this.lastDataAt = performance.now();
      let tags: FlvTag[];
      try {
        tags = this.parser.push(chunk);
      } catch (err) {
        this.lose((err as Error).message);
        return;
      }
      for (let i = 0; i < tags.length; i++) {
        const reason = readCloseTag(tags[i]);
        if (reason !== null) {
          this.onTags(this, tags.slice(0, i));
          this.lose(`upstream closed the forward: ${reason}`);
          return;
        }
      }
      this.onTags(this, tags);
    });
    res.on('end', () => this.lose('upstream ended the stream (EOF)'));
    res.on('error', (err) => this.lose(`upstream connection broke: ${err.message}`));
  }

  /**
   * One timer per stall bound, not one per chunk: when it fires early enough it is re-armed for the rest.
   * Timers run before I/O in each turn of the event loop, so after the loop was held up (a loaded machine)
   * data may be waiting in the socket: a stall is declared only if it is still silent after one I/O phase.
   */
  private armStall(delayMs = this.stallMs): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.checkStall(false), delayMs);
  }

  private checkStall(afterIo: boolean): void {
    if (this.closed) return;
    const bound = this.bytesIn > 0 ? this.stallMs : this.stallMs * 2;
    const idleMs = performance.now() - this.lastDataAt;
    if (idleMs < bound) this.armStall(bound - idleMs);
    else if (!afterIo) setImmediate(() => this.checkStall(true));
    else if (this.bytesIn === 0) this.lose(`no data from upstream within ${bound} ms of the request`);
    else this.lose(`no data from upstream for ${bound} ms (stall)`);
  }

  private lose(reason: string): void {
    if (this.closed) return;
    this.close();
    this.onLost(this, reason);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.req.destroy();
  }
}

/**
 * Pulls one stream from an upstream relay's forward server and hands its tags on with timestamps that
 * stay monotonic across switches.
 *
 * A switch while the current upstream still flows is make-before-break: the new pull runs alongside and
 * takes over at its first keyframe past what was already passed on (its GOP replay is skipped), so the
 * output has neither a gap nor a repeat. When the current upstream is already gone (a crash), the new
 * pull's first keyframe is taken at once, placed right after the last output: a gap as short as the
 * reconnect, at the cost of repeating up to one GOP.
 */
export class UpstreamClient {
  private active: Pull | null = null;
  private pending: Pull | null = null;
  /** Headers the pending pull sent; passed on when it takes over (the hub drops unchanged ones). */
  private pendingHeaders: FlvTag[] = [];
  /** The active pull has not yet delivered its first keyframe. */
  private activeWaitingForKeyframe = false;
  private lastInputTs: number | null = null;
  private readonly rebaser = new RelayedTimeline(1, 1000, 10_000);
  private closed = false;
  switches = 0;

  constructor(
    private readonly streamId: string,
    private readonly stallMs: number,
    private readonly keys: NodeKeys,
    private readonly events: UpstreamClientEvents,
    private readonly log: Logger,
  ) {}

  get upstreamNodeId(): string | null {
    return (this.pending ?? this.active)?.upstreamNodeId ?? null;
  }

  get bytesIn(): number {
    return (this.active?.bytesIn ?? 0) + (this.pending?.bytesIn ?? 0);
  }

  /**
   * Pulls from `url` (its ticket token included) with a fresh proof of possession for `ticketId`; if a
   * healthy upstream is flowing, switches over without a gap.
   */
  connect(url: string, upstreamNodeId: string, ticketId: string): void {
    if (this.closed) return;
    this.pending?.close();
    this.pending = null;
    this.pendingHeaders = [];
    const pull = new Pull(
      url,
      upstreamNodeId,
      signForwardProof(this.keys, ticketId, upstreamNodeId),
      this.stallMs,
      (p, tags) => this.onTags(p, tags),
      (p, reason) => this.onLost(p, reason),
    );
    if (this.active && !this.activeWaitingForKeyframe && this.lastInputTs !== null) {
      this.pending = pull;
    } else {
      this.active?.close();
      this.active = pull;
      this.activeWaitingForKeyframe = this.lastInputTs !== null;
      if (this.lastInputTs !== null) this.rebaser.discontinuity();
    }
    this.switches += this.lastInputTs !== null ? 1 : 0;
  }

  private onTags(pull: Pull, tags: FlvTag[]): void {
    for (const tag of tags) {
      if (pull === this.pending) this.fromPending(tag);
      else if (pull === this.active) this.fromActive(tag);
    }
  }

  private fromActive(tag: FlvTag): void {
    if (isSequenceHeader(tag) || tag.type === FlvTagType.Script) {
      // Headers carry no media time of their own; keep them on the output timeline.
      this.events.onTag({ ...tag, timestamp: this.rebaser.latest ?? tag.timestamp });
      return;
    }
    if (this.activeWaitingForKeyframe) {
      if (!(tag.type === FlvTagType.Video && isKeyframe(tag))) return;
      this.activeWaitingForKeyframe = false;
    }
    this.emit(tag);
  }

  /** The new upstream runs alongside until it reaches a keyframe past what was passed on. */
  private fromPending(tag: FlvTag): void {
    if (isClockTag(tag)) return; // live only: the active upstream's stamps go on
    if (isSequenceHeader(tag) || tag.type === FlvTagType.Script) {
      this.pendingHeaders = this.pendingHeaders.filter((h) => h.type !== tag.type).concat(tag);
      return;
    }
    if (!(tag.type === FlvTagType.Video && isKeyframe(tag))) return;
    const last = this.lastInputTs ?? 0;
    const foreign = Math.abs(tag.timestamp - last) > FOREIGN_TIMELINE_MS;
    if (!foreign && tag.timestamp <= last) return; // its GOP replay of frames we already passed on
    const previous = this.active;
    this.active = this.pending;
    this.pending = null;
    this.activeWaitingForKeyframe = false;
    previous?.close();
    for (const h of this.pendingHeaders)
      this.events.onTag({ ...h, timestamp: this.rebaser.latest ?? h.timestamp });
    this.pendingHeaders = [];
    if (foreign) this.rebaser.discontinuity();
    this.log.info(
      { streamId: this.streamId, upstreamNodeId: this.active?.upstreamNodeId },
      'switched upstream without a gap',
    );
    this.emit(tag);
  }

  private emit(tag: FlvTag): void {
    this.lastInputTs = tag.timestamp;
    this.events.onTag({ ...tag, timestamp: this.rebaser.map(tag) });
  }

  private onLost(pull: Pull, reason: string): void {
    if (pull === this.pending) {
      this.pending = null;
    } else if (pull === this.active) {
      this.active = null;
      if (this.pending) {
        // The old upstream went before the new one reached a fresh keyframe: take the new one as is.
        this.active = this.pending;
        this.pending = null;
        this.activeWaitingForKeyframe = true;
        for (const h of this.pendingHeaders)
          this.events.onTag({ ...h, timestamp: this.rebaser.latest ?? h.timestamp });
        this.pendingHeaders = [];
        this.rebaser.discontinuity();
        return;
      }
    } else {
      return;
    }
    this.log.warn({ streamId: this.streamId, upstreamNodeId: pull.upstreamNodeId, reason }, 'upstream lost');
    this.events.onLost(reason, pull.upstreamNodeId);
  }

  close(): void {
    this.closed = true;
    this.active?.close();
    this.pending?.close();
    this.active = null;
    this.pending = null;
  }
}
