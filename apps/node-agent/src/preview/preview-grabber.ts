import { ChildProcess, spawn } from 'node:child_process';
import { MAX_PREVIEW_BYTES } from '@astral/contracts';
import { JpegFrames } from './jpeg-frames';

export interface PreviewGrabberOptions {
  /** The stream as a local player sees it: http://127.0.0.1:<httpPort>/live/<id>.flv. */
  url: string;
  intervalMs: number;
  /** Called with each new frame (a JPEG of at most MAX_PREVIEW_BYTES). */
  onFrame: (jpeg: Buffer) => void;
  /** Called once when ffmpeg exits by itself (not after stop()), with its last stderr line. */
  onExit: (code: number | null, signal: NodeJS.Signals | null, lastError: string) => void;
  ffmpeg?: string;
}

/** How long ffmpeg gets to exit after SIGTERM before it is killed. */
const KILL_AFTER_MS = 2000;

/**
 * One long-running ffmpeg for one stream. It decodes keyframes only (`-skip_frame nokey`: a fraction of the CPU
 * of decoding every frame), keeps one frame per interval (`select`), scales it to 320 pixels wide and writes
 * JPEGs to its stdout, which JpegFrames splits with a bounded buffer. ffmpeg reads the stream from the node's own
 * HTTP-FLV port over loopback, which costs no upload. If the agent dies, ffmpeg's next write to the closed pipe
 * fails and it exits, so no orphan outlives the agent by more than one interval; `-rw_timeout` ends it when the
 * stream stalls.
 */
export class PreviewGrabber {
  private readonly child: ChildProcess;
  private stopping = false;
  private lastError = '';
  readonly exited: Promise<void>;

  constructor(opts: PreviewGrabberOptions) {
    const seconds = (opts.intervalMs / 1000).toFixed(3);
    this.child = spawn(
      opts.ffmpeg ?? 'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-rw_timeout',
        '15000000',
        '-skip_frame',
        'nokey',
        '-i',
        opts.url,
        '-an',
        '-sn',
        '-dn',
        '-vf',
        `select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,${seconds})',scale=320:-2`,
        '-fps_mode',
        'vfr',
        '-f',
        'image2pipe',
        '-c:v',
        'mjpeg',
        '-q:v',
        '6',
        'pipe:1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const frames = new JpegFrames(MAX_PREVIEW_BYTES);
    this.child.stdout!.on('data', (chunk: Buffer) => {
      for (const jpeg of frames.push(chunk)) opts.onFrame(jpeg);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8').trim();
      if (text) this.lastError = text.split('\n').at(-1)!.slice(0, 300);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.lastError = err.message;
        resolve();
      });
      this.child.once('exit', () => resolve());
    });
    this.child.once('exit', (code, signal) => {
      if (!this.stopping) opts.onExit(code, signal, this.lastError);
    });
    this.child.once('error', () => {
      if (!this.stopping) opts.onExit(null, null, this.lastError);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM, then SIGKILL after KILL_AFTER_MS; resolves once ffmpeg is gone (reaped, so no zombie). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined)
      return this.exited;
    this.child.kill('SIGTERM');
    const kill = setTimeout(() => this.child.kill('SIGKILL'), KILL_AFTER_MS);
    await this.exited;
    clearTimeout(kill);
  }
}
