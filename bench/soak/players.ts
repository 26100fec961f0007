/**
 * The soak bench's players, both reconnecting after 1 s when their stream ends:
 * - HTTP-FLV: FlvTagReader from libs/testing;
 * - RTMP: ffmpeg playing rtmp://… with `-c copy -copyts -f flv` into a TCP listener of ours, where
 *   FlvParser reads the tags (so both players are measured the same way, tag by tag).
 * Every video tag goes to the player's TagTimeline.
 */
import { Server, Socket, createServer } from 'node:net';
import { FlvParser, isVideoFrame } from '@astral/media';
import { FlvTagReader, ManagedProcess, freePort, spawnManaged } from '@astral/testing';
import { TagTimeline } from './timeline';

export interface SoakPlayer {
  readonly name: string;
  readonly timeline: TagTimeline;
  reconnects: number;
  lastError: string | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class HttpFlvSoakPlayer implements SoakPlayer {
  reconnects = 0;
  lastError: string | null = null;
  private reader: FlvTagReader | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly name: string,
    private readonly url: string,
    readonly timeline: TagTimeline,
  ) {}

  async start(): Promise<void> {
    await this.connect();
    this.timer = setInterval(() => void this.check(), 500);
  }

  private async connect(): Promise<void> {
    this.timeline.newSession();
    this.reader = await FlvTagReader.open(this.url, (tag, arrivalMs) => {
      if (isVideoFrame(tag)) this.timeline.push(arrivalMs, tag.timestamp);
    });
  }

  private reconnecting = false;

  private async check(): Promise<void> {
    const r = this.reader;
    if (r) r.videoFrames.length = 0; // the timeline keeps what matters; the reader's list would grow for hours
    if (this.stopped || this.reconnecting || (r && !r.ended)) return;
    this.reconnecting = true;
    this.lastError = r?.error?.message ?? 'stream ended';
    r?.close();
    this.reader = null;
    await new Promise((res) => setTimeout(res, 1000));
    this.reconnects++;
    try {
      if (!this.stopped) await this.connect();
    } catch (err) {
      this.lastError = (err as Error).message;
    } finally {
      this.reconnecting = false;
    }
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.reader?.close();
    return Promise.resolve();
  }
}

export class RtmpSoakPlayer implements SoakPlayer {
  reconnects = 0;
  lastError: string | null = null;
  private server: Server | null = null;
  private port = 0;
  private ffmpeg: ManagedProcess | null = null;
  private stopped = false;
  private sockets = new Set<Socket>();

  constructor(
    readonly name: string,
    private readonly url: string,
    readonly timeline: TagTimeline,
    private readonly logFile: string,
  ) {}

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((socket) => this.onConnection(socket));
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.spawn();
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    this.timeline.newSession();
    const parser = new FlvParser();
    socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      try {
        for (const tag of parser.push(chunk)) if (isVideoFrame(tag)) this.timeline.push(now, tag.timestamp);
      } catch (err) {
        this.lastError = `ffmpeg's FLV output did not parse: ${(err as Error).message}`;
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private spawn(): void {
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'warning',
      '-rw_timeout',
      '15000000',
      '-i',
      this.url,
    ];
    args.push('-c', 'copy', '-copyts', '-flush_packets', '1', '-f', 'flv', `tcp://127.0.0.1:${this.port}`);
    const p = spawnManaged(this.name, args, { command: 'ffmpeg', logFile: this.logFile });
    this.ffmpeg = p;
    p.onExit((exit) => {
      if (this.stopped) return;
      this.lastError = `ffmpeg exited with ${JSON.stringify(exit)} (log ${this.logFile})`;
      setTimeout(() => {
        if (this.stopped) return;
        this.reconnects++;
        this.spawn();
      }, 1000);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.ffmpeg?.stop('SIGTERM', 3000);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
