import { ClientRequest, IncomingMessage, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  FlvHeader,
  FlvParser,
  FlvTag,
  FlvTagType,
  isKeyframe,
  isMetadata,
  isSequenceHeader,
  isVideoFrame,
} from '@astral/media';
import { redactUrl } from './http-json';
import { waitFor } from './wait-for';

export interface ReceivedVideoFrame {
  /** FLV timestamp in ms. */
  timestamp: number;
  /** performance.now() when the tag was parsed. */
  arrivalMs: number;
  keyframe: boolean;
}

/**
 * A minimal HTTP-FLV player for tests: GETs the URL, parses the stream with FlvParser and records what
 * arrives (video frame timestamps and arrival times, sequence headers, metadata). It never buffers
 * whole tags beyond what it records.
 */
export class FlvTagReader {
  header: FlvHeader | null = null;
  readonly videoFrames: ReceivedVideoFrame[] = [];
  audioTags = 0;
  metadataTags = 0;
  sequenceHeaders = 0;
  bytes = 0;
  status: number | null = null;
  /** Set when the stream ends or fails; `error` is null for a clean end or close(). */
  ended = false;
  error: Error | null = null;
  private req: ClientRequest | null = null;
  private res: IncomingMessage | null = null;
  private readonly parser = new FlvParser();
  private closedByUs = false;

  constructor(
    readonly url: string,
    private readonly onTag?: (tag: FlvTag, arrivalMs: number) => void,
    /** Request headers (a forward pull's X-Astral-Proof). */
    private readonly headers: Record<string, string> = {},
  ) {}

  /** Opens the connection; resolves on a 200 response, rejects on another status or a connection error. */
  static async open(
    url: string,
    onTag?: (tag: FlvTag, arrivalMs: number) => void,
    headers?: Record<string, string>,
  ): Promise<FlvTagReader> {
    const reader = new FlvTagReader(url, onTag, headers);
    await reader.open();
    return reader;
  }

  open(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(this.url, {
        method: 'GET',
        agent: false,
        timeout: timeoutMs,
        headers: this.headers,
      });
      this.req = req;
      req.once('timeout', () =>
        req.destroy(new Error(`no response from ${redactUrl(this.url)} in ${timeoutMs} ms`)),
      );
      req.once('error', (err) => {
        this.finish(err);
        reject(err);
      });
      req.once('response', (res) => {
        this.res = res;
        this.status = res.statusCode ?? 0;
        req.setTimeout(0);
        if (this.status !== 200) {
          const err = new Error(`GET ${redactUrl(this.url)} answered HTTP ${this.status}`);
          res.resume();
          this.finish(err);
          reject(err);
          return;
        }
        res.on('data', (chunk: Buffer) => this.onData(chunk));
        res.once('end', () => this.finish(null));
        res.once('close', () => this.finish(null));
        res.once('error', (err) => this.finish(err));
        resolve();
      });
      req.end();
    });
  }

  /** The timestamps of the video frames received so far (sequence headers excluded). */
  get videoTimestamps(): number[] {
    return this.videoFrames.map((f) => f.timestamp);
  }

  get framesReceived(): number {
    return this.videoFrames.length;
  }

  /** Video frames that arrived within [fromMs, toMs) of performance.now(). */
  framesBetween(fromMs: number, toMs: number): ReceivedVideoFrame[] {
    return this.videoFrames.filter((f) => f.arrivalMs >= fromMs && f.arrivalMs < toMs);
  }

  /** Resolves once `count` video frames in total have arrived. */
  async waitForFrames(count: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      () => {
        if (this.videoFrames.length >= count) return true;
        if (this.ended) throw new Error(`stream ended: ${this.error?.message ?? 'closed by the server'}`);
        return false;
      },
      { timeoutMs, intervalMs: 20, what: `${count} video frames from ${redactUrl(this.url)}` },
    );
  }

  close(): void {
    this.closedByUs = true;
    this.req?.destroy();
    this.res?.destroy();
    this.finish(null);
  }

  private onData(chunk: Buffer): void {
    this.bytes += chunk.length;
    let tags: FlvTag[];
    try {
      tags = this.parser.push(chunk);
    } catch (err) {
      this.finish(err as Error);
      this.req?.destroy();
      return;
    }
    if (!this.header && this.parser.header) this.header = this.parser.header;
    const now = performance.now();
    for (const tag of tags) {
      if (isMetadata(tag)) this.metadataTags++;
      else if (isSequenceHeader(tag)) this.sequenceHeaders++;
      else if (isVideoFrame(tag))
        this.videoFrames.push({ timestamp: tag.timestamp, arrivalMs: now, keyframe: isKeyframe(tag) });
      else if (tag.type === FlvTagType.Audio) this.audioTags++;
      this.onTag?.(tag, now);
    }
  }

  private finish(err: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    this.error = this.closedByUs ? null : err;
  }
}
