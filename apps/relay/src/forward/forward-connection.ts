import { ServerResponse } from 'node:http';
import { FlvTag, FlvTagType, encodeFlvHeader, encodeFlvTag, isKeyframe, isSequenceHeader, isMetadata } from '@astral/media';
import { ForwardConnectionStats } from '@astral/contracts';
import { StreamConsumer } from '../hub/stream-consumer';
import { BudgetedSender, UploadBudget } from './upload-budget';

export interface ForwardLimits {
  /** Bytes queued behind the socket before the connection is cut back to the next keyframe. */
  maxQueueBytes: number;
  /** Media time queued behind live before the same happens. */
  maxLagMs: number;
  /** Cut-backs within `lagWindowMs` after which the consumer is disconnected. */
  maxCutbacks: number;
  lagWindowMs: number;
  /** Bytes the kernel socket buffer may hold before we stop writing to it. */
  socketHighWater: number;
}

export const DEFAULT_FORWARD_LIMITS: ForwardLimits = {
  maxQueueBytes: 4 * 1024 * 1024,
  maxLagMs: 4000,
  maxCutbacks: 3,
  lagWindowMs: 30_000,
  socketHighWater: 512 * 1024,
};

interface Queued {
  wire: Buffer;
  ts: number;
}

/**
 * One downstream relay pulling one stream. Tags wait in a queue bounded in bytes and in media time;
 * the relay's shared upload budget decides when they leave. A consumer that falls too far behind is cut
 * back to the next keyframe, and disconnected if it keeps lagging. Memory per connection is bounded.
 */
export class ForwardConnection implements StreamConsumer, BudgetedSender {
  private queue: Queued[] = [];
  private head = 0;
  private queuedBytes = 0;
  private waitingForKeyframe = false;
  private cutbacks: number[] = [];
  private closed = false;
  bytesSent = 0;
  droppedTags = 0;
  private lastSentTs: number | null = null;
  private newestTs: number | null = null;
  onClose: ((reason: string) => void) | null = null;

  constructor(
    readonly ticketId: string,
    readonly downstreamNodeId: string,
    private readonly res: ServerResponse,
    private readonly budget: UploadBudget,
    private readonly limits: ForwardLimits = DEFAULT_FORWARD_LIMITS,
  ) {
    res.on('drain', () => this.pump());
    res.on('close', () => this.close('downstream closed the connection'));
  }

  /** Sends the FLV header and the join sequence: metadata, sequence headers, the GOP from its keyframe. */
  start(joinSequence: FlvTag[]): void {
    this.enqueue(encodeFlvHeader(true, true), 0);
    for (const tag of joinSequence) this.enqueue(encodeFlvTag(tag), tag.timestamp);
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
    this.enqueue(wire, tag.timestamp);
    if (tag.type !== FlvTagType.Script) this.newestTs = tag.timestamp;
    if (this.overBound()) this.cutBack();
    this.pump();
  }

  private enqueue(wire: Buffer, ts: number): void {
    this.queue.push({ wire, ts });
    this.queuedBytes += wire.length;
  }

  private overBound(): boolean {
    if (this.queuedBytes > this.limits.maxQueueBytes) return true;
    const oldest = this.queue[this.head];
    return oldest !== undefined && this.newestTs !== null && this.newestTs - oldest.ts > this.limits.maxLagMs;
  }

  /** Drops everything queued and skips to the next keyframe. */
  private cutBack(): void {
    const now = Date.now();
    this.cutbacks = this.cutbacks.filter((t) => now - t < this.limits.lagWindowMs);
    this.cutbacks.push(now);
    this.droppedTags += this.queue.length - this.head;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.waitingForKeyframe = true;
    if (this.cutbacks.length >= this.limits.maxCutbacks) {
      this.close(`lagging: cut back to a keyframe ${this.cutbacks.length} times in ${this.limits.lagWindowMs / 1000} s`);
    }
  }

  pump(): boolean {
    if (this.closed) return true;
    while (this.head < this.queue.length) {
      if (this.res.writableLength > this.limits.socketHighWater) return false; // resumes on 'drain'
      const item = this.queue[this.head];
      if (!this.budget.take(item.wire.length)) {
        this.budget.wait(this, item.wire.length);
        return false;
      }
      this.res.write(item.wire);
      this.bytesSent += item.wire.length;
      this.queuedBytes -= item.wire.length;
      this.lastSentTs = item.ts;
      this.head += 1;
    }
    this.queue = [];
    this.head = 0;
    return true;
  }

  stats(): ForwardConnectionStats {
    const lagMs = this.newestTs !== null && this.lastSentTs !== null ? Math.max(0, this.newestTs - this.lastSentTs) : 0;
    return {
      ticketId: this.ticketId,
      downstreamNodeId: this.downstreamNodeId,
      bytesSent: this.bytesSent,
      queuedBytes: this.queuedBytes,
      lagMs: this.queuedBytes > 0 ? lagMs : 0,
      droppedTags: this.droppedTags,
      state: this.closed ? 'closed' : this.waitingForKeyframe ? 'lagging' : this.bytesSent > 0 ? 'live' : 'joining',
    };
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.budget.forget(this);
    this.queue = [];
    this.queuedBytes = 0;
    if (!this.res.writableEnded) this.res.end();
    this.res.destroy();
    this.onClose?.(reason);
  }
}
