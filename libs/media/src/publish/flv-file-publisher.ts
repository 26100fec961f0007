import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { ClientRequest, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { scrubSecrets } from '@astral/config';
import { isVideoFrame } from '../flv/flv-tag';
import { encodeFlvTag } from '../flv/flv-writer';
import { FlvLoop, loopTimestamp, prepareFlvLoop } from './flv-loop';

export interface FlvFilePublisherOptions {
  /** Path of the FLV file to publish. */
  file: string;
  /** HTTP-FLV publish URL, e.g. http://host:port/live/<streamId>.flv?key=… */
  url: string;
  /** Stop after this many seconds of wall-clock time (default: run until stop()). */
  durationSec?: number;
  /** Pacing factor: 1 is real time. Tests use more to loop quickly. */
  speed?: number;
  /** Loop the file (default true). Without looping, the publisher ends after one pass. */
  loop?: boolean;
  /** Called for every video frame sent, with its output timestamp. */
  onVideoFrame?: (timestamp: number) => void;
}

export class PublishError extends Error {
  constructor(message: string) {
    super(message);
    this.name = PublishError.name;
  }
}

/** Hides query-string secrets in a URL shown in a message. */
const redact = scrubSecrets;

/**
 * Publishes an FLV file as a live stream: one HTTP POST with a chunked FLV body, paced in real time
 * by the tags' timestamps. The file loops with timestamps that keep increasing (each pass is offset
 * by the file's duration plus one frame, see loopSpanMs in flv-loop.ts); metadata and sequence headers
 * are sent once, at the start.
 *
 * Events: 'videoFrame' (timestamp), 'loop' (pass number, from 1), 'error' (PublishError, only when
 * the server or the network ends the upload), 'end' (finished: duration, end of file, or stop()).
 */
export class FlvFilePublisher extends EventEmitter {
  framesSent = 0;
  tagsSent = 0;
  bytesSent = 0;
  /** Completed passes through the file. */
  loops = 0;
  /** Resolves when publishing ends normally; rejects with a PublishError if the server ends it. */
  readonly done: Promise<void>;

  private readonly loop: FlvLoop;
  private readonly speed: number;
  private req: ClientRequest | null = null;
  private stopped = false;
  private failure: PublishError | null = null;
  private stoppedCleanly = false;
  private wake: (() => void) | null = null;
  private resolveDone!: () => void;
  private rejectDone!: (err: Error) => void;
  private pump: Promise<void> | null = null;

  constructor(private readonly options: FlvFilePublisherOptions) {
    super();
    this.loop = prepareFlvLoop(readFileSync(options.file), options.file);
    this.speed = options.speed ?? 1;
    if (!(this.speed > 0)) throw new Error('speed must be positive');
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Nobody may be awaiting `done`: never let it become an unhandled rejection.
    this.done.catch(() => undefined);
    if (options.onVideoFrame) this.on('videoFrame', options.onVideoFrame);
  }

  /** Duration of one pass through the file, in ms of media time. */
  get fileDurationMs(): number {
    return this.loop.spanMs;
  }

  /** Opens the POST connection and starts sending; resolves once the connection is open. */
  start(): Promise<void> {
    if (this.req) return Promise.reject(new Error('FlvFilePublisher.start() was already called'));
    return new Promise<void>((resolve, reject) => {
      const url = new URL(this.options.url);
      const req = request(url, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'video/x-flv', 'transfer-encoding': 'chunked', connection: 'close' },
      });
      this.req = req;
      let open = false;
      req.once('socket', (socket) => {
        socket.setNoDelay(true);
        socket.once('connect', () => {
          open = true;
          req.flushHeaders();
          this.pump = this.run();
          resolve();
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        const cut = open && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        const e = new PublishError(
          cut
            ? `the server closed the publish connection to ${redact(this.options.url)} (${err.code}): ` +
                'was the key refused, or does the stream already have a publisher?'
            : `publishing to ${redact(this.options.url)} failed: ${err.message}`,
        );
        if (!open) reject(e);
        this.fail(e);
      });
      req.once('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 500) body += chunk;
        });
        const closed = (): void => {
          const detail = body.trim() ? `: ${body.trim().slice(0, 300)}` : '';
          const refused =
            res.statusCode !== undefined && res.statusCode >= 400 ? ' (refused: wrong key or stream?)' : '';
          this.fail(
            new PublishError(
              `the server closed the publish connection to ${redact(this.options.url)} with HTTP ${res.statusCode}${refused}${detail}`,
            ),
          );
        };
        res.once('end', closed);
        res.once('close', closed);
      });
    });
  }

  /**
   * Ends the upload cleanly (terminating chunk) and waits for the sender to stop. If the server does
   * not take the rest of the data within timeoutMs, the connection is destroyed instead.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (!this.pump) {
      this.req?.destroy();
      this.resolveDone();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    if ((await Promise.race([this.pump, timedOut])) === 'timeout') {
      this.stoppedCleanly = true;
      this.req?.destroy();
      this.resolveDone();
    }
    clearTimeout(timer);
    await this.done.catch(() => undefined);
  }

  private fail(err: PublishError): void {
    if (this.failure || this.stoppedCleanly) return;
    this.failure = err;
    this.stopped = true;
    this.wake?.();
    this.req?.destroy();
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.rejectDone(err);
  }

  private async run(): Promise<void> {
    const req = this.req as ClientRequest;
    const t0 = performance.now();
    const deadline = this.options.durationSec !== undefined ? t0 + this.options.durationSec * 1000 : Infinity;
    try {
      await this.write(this.loop.header);
      for (const tag of this.loop.preamble) await this.write(encodeFlvTag(tag, 0));
      for (let pass = 0; !this.stopped; pass++) {
        for (const tag of this.loop.media) {
          if (this.stopped) break;
          const ts = loopTimestamp(this.loop, tag, pass);
          const due = t0 + ts / this.speed;
          if (due > deadline) {
            this.stopped = true;
            break;
          }
          const wait = due - performance.now();
          if (wait > 1) await this.sleep(wait);
          if (this.stopped) break;
          await this.write(encodeFlvTag(tag, ts));
          this.tagsSent++;
          if (isVideoFrame(tag)) {
            this.framesSent++;
            this.emit('videoFrame', ts);
          }
        }
        if (this.stopped) break;
        this.loops++;
        this.emit('loop', this.loops);
        if (this.options.loop === false) break;
      }
    } catch {
      // A write failed: the 'error' handler of the request reports it.
    }
    if (this.failure || this.stoppedCleanly) return;
    this.stoppedCleanly = true;
    if (!req.destroyed) {
      await new Promise<void>((resolve) => {
        req.once('close', () => resolve());
        req.end(() => resolve());
      });
    }
    this.emit('end');
    this.resolveDone();
  }

  private write(buf: Buffer): Promise<void> {
    const req = this.req as ClientRequest;
    if (this.failure || req.destroyed) return Promise.reject(this.failure ?? new Error('connection closed'));
    this.bytesSent += buf.length;
    if (req.write(buf)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        req.off('drain', done);
        req.off('close', done);
        resolve();
      };
      req.once('drain', done);
      req.once('close', done);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}
