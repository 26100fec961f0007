import http, { ClientRequest, IncomingMessage } from 'node:http';
import { FlvParser, FlvTag, FlvTagType, TimestampRebaser, isKeyframe, isSequenceHeader, readCloseTag } from '@astral/media';
import { Logger } from '@astral/config';

/** Timestamps further than this from the last one belong to another timeline (not a replay of ours). */
const FOREIGN_TIMELINE_MS = 5000;

export interface UpstreamClientEvents {
  onTag(tag: FlvTag): void;
  onLost(reason: string): void;
}

/**
 * Pulls one stream from an upstream relay's forward server and hands its tags on with timestamps that
 * stay monotonic across switches. After a switch it resumes at a keyframe: tags the old upstream already
 * delivered (the new one's GOP replay) are skipped, so nothing is shown twice.
 */
export class UpstreamClient {
  private req: ClientRequest | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private parser = new FlvParser();
  private resyncing = false;
  private lastInputTs: number | null = null;
  private readonly rebaser = new TimestampRebaser(1, 1000, 10_000);
  private generation = 0;
  upstreamNodeId: string | null = null;
  bytesIn = 0;
  connectedAt: number | null = null;

  constructor(
    private readonly streamId: string,
    private readonly stallMs: number,
    private readonly events: UpstreamClientEvents,
    private readonly log: Logger,
  ) {}

  /** Connects to `url`, dropping any current upstream first. The output timeline continues. */
  connect(url: string, upstreamNodeId: string): void {
    const generation = ++this.generation;
    this.teardown();
    this.upstreamNodeId = upstreamNodeId;
    this.parser = new FlvParser();
    this.resyncing = this.lastInputTs !== null;
    const req = http.get(url, { timeout: this.stallMs * 2 }, (res) => this.onResponse(res, generation));
    this.req = req;
    req.on('timeout', () => this.lose(generation, `no answer from upstream within ${this.stallMs * 2} ms`));
    req.on('error', (err) => this.lose(generation, `upstream connection failed: ${err.message}`));
    this.armStall(generation);
  }

  private onResponse(res: IncomingMessage, generation: number): void {
    if (generation !== this.generation) {
      res.destroy();
      return;
    }
    if (res.statusCode !== 200) {
      this.lose(generation, `upstream answered HTTP ${res.statusCode}`);
      res.resume();
      return;
    }
    this.connectedAt = Date.now();
    res.on('data', (chunk: Buffer) => {
      if (generation !== this.generation) return;
      this.bytesIn += chunk.length;
      this.armStall(generation);
      let tags: FlvTag[];
      try {
        tags = this.parser.push(chunk);
      } catch (err) {
        this.lose(generation, (err as Error).message);
        return;
      }
      for (const tag of tags) {
        const closeReason = readCloseTag(tag);
        if (closeReason !== null) {
          this.lose(generation, `upstream closed the forward: ${closeReason}`);
          return;
        }
        this.accept(tag);
      }
    });
    res.on('end', () => this.lose(generation, 'upstream ended the stream (EOF)'));
    res.on('error', (err) => this.lose(generation, `upstream connection broke: ${err.message}`));
  }

  private accept(tag: FlvTag): void {
    if (isSequenceHeader(tag) || tag.type === FlvTagType.Script) {
      // Headers carry no media time of their own; keep them on the output timeline.
      this.events.onTag({ ...tag, timestamp: this.rebaser.lastOutput ?? tag.timestamp });
      return;
    }
    if (this.resyncing) {
      if (!(tag.type === FlvTagType.Video && isKeyframe(tag))) return;
      const last = this.lastInputTs ?? 0;
      const foreign = Math.abs(tag.timestamp - last) > FOREIGN_TIMELINE_MS;
      if (!foreign && tag.timestamp <= last) return; // a replay of frames we already passed on
      if (foreign) this.rebaser.discontinuity();
      this.resyncing = false;
    }
    this.lastInputTs = tag.timestamp;
    this.events.onTag({ ...tag, timestamp: this.rebaser.rebase(tag.timestamp) });
  }

  private armStall(generation: number): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(
      () => this.lose(generation, `no data from upstream for ${this.stallMs} ms (stall)`),
      this.stallMs,
    );
  }

  private lose(generation: number, reason: string): void {
    if (generation !== this.generation) return;
    this.generation++; // later events of this connection are ignored
    this.teardown();
    this.log.warn({ streamId: this.streamId, upstreamNodeId: this.upstreamNodeId, reason }, 'upstream lost');
    this.events.onLost(reason);
  }

  private teardown(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    if (this.req) {
      this.req.destroy();
      this.req = null;
    }
  }

  close(): void {
    this.generation++;
    this.teardown();
  }
}
