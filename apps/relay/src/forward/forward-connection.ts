import { Socket } from 'node:net';
import {
  FlvTag,
  encodeCloseTag,
  encodeFlvHeader,
  encodeFlvTag,
  isKeyframe,
  wireOf,
  isMetadata,
  isSequenceHeader,
} from '@astral/media';
import { ForwardConnectionStats } from '@astral/contracts';
import { StreamConsumer } from '../hub/stream-consumer';
import { BudgetedSender, UploadBudget } from './upload-budget';
import { ProbedSocket, SendQueueProbe, probeKeyOf } from './send-queue-probe';

export interface ForwardLimits {
  /** Bytes queued in the relay (beyond the socket's own buffer) before a cut back to the next keyframe. */
  maxQueueBytes: number;
  /** Wall-clock time the oldest queued tag may wait before the same happens. */
  maxLagMs: number;
  /**
   * Cut-backs within `lagWindowMs` at which the consumer is disconnected: 2 means "cut back once; if
   * it is still lagging past the bound afterwards, disconnect".
   */
  maxCutbacks: number;
  lagWindowMs: number;
  /**
   * Bytes the socket may hold (Node's write buffer plus the kernel's send queue, as probed) before the
   * relay stops writing to it and queues instead, where tags can still be dropped.
   */
  socketHighWater: number;
}

export const DEFAULT_FORWARD_LIMITS: ForwardLimits = {
  maxQueueBytes: 4 * 1024 * 1024,
  maxLagMs: 4000,
  maxCutbacks: 2,
  lagWindowMs: 30_000,
  socketHighWater: 256 * 1024,
};

export type ForwardCloseKind = 'graceful' | 'lagging' | 'gone';

/** The FLV file header every forward starts with: one buffer for all (the socket never modifies it). */
const FLV_FILE_HEADER = encodeFlvHeader(true, true);

/**
 * One downstream relay pulling one stream over a raw socket (the HTTP response head was already sent;
 * the body is the FLV byte stream, close-delimited, no chunked framing). Each tag is written straight
 * to the socket when nothing is queued and the shared upload budget allows; otherwise it waits in a
 * queue bounded in bytes and in time. A consumer past either bound is cut back to the next keyframe,
 * and disconnected if it is still lagging after that. Queued tags are the hub's shared buffers, so a
 * stuck consumer costs references, not copies, and at most maxQueueBytes + socketHighWater of them.
 */
export class ForwardConnection implements StreamConsumer, BudgetedSender, ProbedSocket {
  private queue: Buffer[] = [];
  private queuedAt: number[] = [];
  private head = 0;
  private queuedBytes = 0;
  private waitingForKeyframe = false;
  private cutbacks: number[] = [];
  private closed = false;
  /** Writes of one event-loop turn go out together: corked now, uncorked on the next tick (one writev). */
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };
  bytesSent = 0;
  droppedTags = 0;
  /** Media timestamp of the newest tag seen and of the last one handed to the socket (for stats). */
  private newestTs: number | null = null;
  private lastSentTs: number | null = null;
  readonly openedAt = Date.now();
  readonly probeKey: string;
  readonly probeV6: boolean;
  /** The kernel's send queue for this socket at the last probe. */
  private kernelQueued = 0;
  closeReason: string | null = null;
  onClose: ((reason: string, kind: ForwardCloseKind) => void) | null = null;
  /** Called on each cut back to a keyframe, with why. */
  onCutback: ((reason: string, dropped: number) => void) | null = null;

  constructor(
    readonly ticketId: string,
    readonly downstreamNodeId: string,
    private readonly socket: Socket,
    private readonly budget: UploadBudget,
    private readonly limits: ForwardLimits = DEFAULT_FORWARD_LIMITS,
    private readonly clock: () => number = Date.now,
    private readonly probe: SendQueueProbe | null = null,
  ) {
    this.probeKey = probeKeyOf(socket.localPort ?? 0, socket.remoteAddress, socket.remotePort);
    this.probeV6 = socket.remoteFamily === 'IPv6';
    probe?.add(this);
    socket.on('drain', () => this.pump());
    socket.on('close', () => this.close('downstream closed the connection', 'gone'));
    socket.on('error', () => this.close('downstream connection failed', 'gone'));
  }

  /**
   * Sends the FLV header and the join sequence: metadata, sequence headers, the GOP from its keyframe,
   * as the hub's cached wire buffers (no encoding per joiner), in one writev.
   */
  start(joinSequence: FlvTag[]): void {
    const now = this.clock();
    this.enqueue(FLV_FILE_HEADER, now);
    for (const tag of joinSequence) {
      this.enqueue(wireOf(tag), now);
      this.newestTs = tag.timestamp;
    }
    this.pump();
  }

  deliver(tag: FlvTag, wire: Buffer): void {
    if (this.closed) return;
    if (this.waitingForKeyframe) {
      if (isKeyframe(tag) && !isSequenceHeader(tag)) this.waitingForKeyframe = false;
      else if (!isSequenceHeader(tag) && !isMetadata(tag)) {
        this.droppedTags += 1;
        return;
      }
    }
    this.newestTs = tag.timestamp;
    // Fast path: nothing waiting, room in the socket, budget available: straight to the kernel.
    if (
      this.head === this.queue.length &&
      this.socket.writableLength + this.kernelQueued <= this.limits.socketHighWater &&
      !this.budget.contended &&
      this.budget.take(wire.length)
    ) {
      this.write(wire);
      this.lastSentTs = tag.timestamp;
      return;
    }
    const now = this.clock();
    this.enqueue(wire, now);
    const over = this.overBound(now);
    if (over) this.cutBack(over, now);
    else this.pump();
  }

  onKernelQueue(bytes: number): void {
    this.kernelQueued = bytes;
    if (this.closed || this.head === this.queue.length) return;
    const now = this.clock();
    const over = this.overBound(now);
    if (over) this.cutBack(over, now);
    else this.pump();
  }

  private enqueue(wire: Buffer, at: number): void {
    this.queue.push(wire);
    this.queuedAt.push(at);
    this.queuedBytes += wire.length;
  }

  private overBound(now: number): string | null {
    if (this.queuedBytes > this.limits.maxQueueBytes) {
      return `${this.queuedBytes} bytes queued (bound ${this.limits.maxQueueBytes})`;
    }
    const oldest = this.queuedAt[this.head];
    if (oldest !== undefined && now - oldest > this.limits.maxLagMs) {
      return `${now - oldest} ms behind live (bound ${this.limits.maxLagMs} ms)`;
    }
    return null;
  }

  /** Drops everything queued and skips to the next keyframe; disconnects a consumer that keeps lagging. */
  private cutBack(why: string, now: number): void {
    this.cutbacks = this.cutbacks.filter((t) => now - t < this.limits.lagWindowMs);
    this.cutbacks.push(now);
    const dropped = this.queue.length - this.head;
    this.droppedTags += dropped;
    this.resetQueue();
    this.waitingForKeyframe = true;
    if (this.cutbacks.length >= this.limits.maxCutbacks) {
      this.close(
        `lagging: ${why}, ${this.cutbacks.length} times within ${this.limits.lagWindowMs / 1000} s`,
        'lagging',
      );
      return;
    }
    this.onCutback?.(why, dropped);
  }

  private resetQueue(): void {
    this.queue = [];
    this.queuedAt = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private get socketHasRoom(): boolean {
    // Resumes on 'drain', or at the next probe of the kernel's queue.
    return this.socket.writableLength + this.kernelQueued <= this.limits.socketHighWater;
  }

  /** Writes queued tags while the socket has room: directly when unlimited, else through the budget. */
  pump(): void {
    if (this.closed || this.head === this.queue.length || !this.socketHasRoom) return;
    if (this.budget.limited) {
      this.budget.wait(this);
      return;
    }
    while (this.head < this.queue.length && this.socketHasRoom) {
      const wire = this.queue[this.head];
      this.budget.take(wire.length);
      this.writeHead(wire);
    }
  }

  headBytes(): number {
    if (this.closed || this.head === this.queue.length || !this.socketHasRoom) return 0;
    return this.queue[this.head].length;
  }

  sendHead(): void {
    const wire = this.queue[this.head];
    if (wire) this.writeHead(wire);
  }

  /** Every write of this event-loop turn, live tags and queued ones alike, goes out in one writev. */
  private write(wire: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(wire);
    this.bytesSent += wire.length;
  }

  private writeHead(wire: Buffer): void {
    this.write(wire);
    this.queuedBytes -= wire.length;
    this.head += 1;
    if (this.head === this.queue.length) {
      this.lastSentTs = this.newestTs;
      this.resetQueue();
    }
  }

  get lagMs(): number {
    const oldest = this.queuedAt[this.head];
    return oldest === undefined ? 0 : Math.max(0, this.clock() - oldest);
  }

  stats(): ForwardConnectionStats {
    return {
      ticketId: this.ticketId,
      downstreamNodeId: this.downstreamNodeId,
      bytesSent: this.bytesSent,
      queuedBytes: this.queuedBytes + this.socket.writableLength + this.kernelQueued,
      lagMs: this.lagMs,
      droppedTags: this.droppedTags,
      state: this.closed
        ? 'closed'
        : this.waitingForKeyframe
          ? 'lagging'
          : this.bytesSent > 0
            ? 'live'
            : 'joining',
    };
  }

  /** Media time between the newest tag seen and the last one written (0 when nothing waits). */
  get mediaLagMs(): number {
    return this.newestTs !== null && this.lastSentTs !== null
      ? Math.max(0, this.newestTs - this.lastSentTs)
      : 0;
  }

  /**
   * Closes on purpose with a reason the downstream relay can read: the close tag goes out ahead of
   * anything still queued (which is dropped: the downstream re-parents at once), then the socket ends.
   */
  closeWithReason(reason: string): void {
    if (this.closed) return;
    this.resetQueue();
    if (!this.socket.destroyed && this.socket.writable)
      this.socket.write(encodeFlvTag(encodeCloseTag(reason, this.newestTs ?? 0)));
    this.close(reason, 'graceful');
  }

  /** Resolves once the socket is fully closed (or after timeoutMs). */
  closed$(timeoutMs: number): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(reason: string, kind: ForwardCloseKind = 'graceful'): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.budget.forget(this);
    this.probe?.remove(this);
    this.droppedTags += this.queue.length - this.head;
    this.resetQueue();
    if (kind === 'graceful' && !this.socket.destroyed) {
      // Let what was written (the close tag) reach the peer; a peer that does not read is cut off.
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2000).unref();
    } else {
      this.socket.destroy();
    }
    this.onClose?.(reason, kind);
  }
}
