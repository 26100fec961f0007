import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One packet as ffmpeg's framemd5 muxer lists it (timestamps in ms: FLV's time base). */
export interface RecordedPacket {
  media: 'video' | 'audio';
  dts: number;
  pts: number;
  size: number;
  hash: string;
}

/**
 * A real player that records every frame: `ffmpeg -i <url> -c copy -f framemd5 -` (each packet's dts,
 * pts, size and md5, in order). `exited` tells whether ffmpeg ever left on its own (a disconnect).
 */
export class FrameRecorder {
  readonly packets: RecordedPacket[] = [];
  private readonly media = new Map<number, 'video' | 'audio'>();
  private readonly proc: ChildProcess;
  stderr = '';
  exitedOnItsOwn = false;
  private stopping = false;
  readonly exited: Promise<void>;

  constructor(readonly url: string) {
    this.proc = spawn(
      'ffmpeg',
      [
        '-v',
        'error',
        '-nostdin',
        '-i',
        url,
        '-map',
        '0',
        '-c',
        'copy',
        '-flush_packets',
        '1',
        '-f',
        'framemd5',
        '-',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => this.onLine(line));
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', () => {
        if (!this.stopping) this.exitedOnItsOwn = true;
        resolve();
      }),
    );
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get videoFrames(): RecordedPacket[] {
    return this.packets.filter((p) => p.media === 'video');
  }

  private onLine(line: string): void {
    const m = /^#media_type (\d+): (\w+)/.exec(line);
    if (m) {
      if (m[2] === 'video' || m[2] === 'audio') this.media.set(Number(m[1]), m[2]);
      return;
    }
    if (line.startsWith('#')) return;
    const f = line.split(',').map((x) => x.trim());
    if (f.length < 6) return;
    const media = this.media.get(Number(f[0]));
    if (!media) return;
    this.packets.push({ media, dts: Number(f[1]), pts: Number(f[2]), size: Number(f[4]), hash: f[5] });
  }

  /** Stops ffmpeg (SIGINT: it flushes what it has) and waits for it. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.running) this.proc.kill('SIGINT');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface FrameComparison {
  /** Video frames the player got, and the source's frames over the same span. */
  frames: number;
  sourceFrames: number;
  /** Source frames within the player's span that it never got. */
  lostFrames: number;
  /** Frames the player got more than once. */
  repeatedFrames: number;
  /** Frames the player got that the source never sent (should be 0). */
  foreignFrames: number;
  /** Changes of (player pts − source pts) from one frame to the next: a timestamp jump. */
  offsetJumps: number;
  /** Largest step between consecutive video timestamps at the player. */
  maxTsGapMs: number;
  /** Audio frames of the source within the span (by timestamp, on the video's offset) the player missed. */
  lostAudio: number;
}

/** Compares what a player got against a player at the source, frame by frame (by each frame's md5). */
export function compareFrames(source: RecordedPacket[], got: RecordedPacket[]): FrameComparison {
  const src = source.filter((p) => p.media === 'video');
  const vid = got.filter((p) => p.media === 'video');
  const at = new Map<string, number>();
  src.forEach((p, i) => at.set(p.hash, i));
  const seen = new Set<number>();
  let repeated = 0;
  let foreign = 0;
  let jumps = 0;
  let maxGap = 0;
  let lastOffset: number | null = null;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < vid.length; i++) {
    if (i > 0) maxGap = Math.max(maxGap, vid[i].dts - vid[i - 1].dts);
    const j = at.get(vid[i].hash);
    if (j === undefined) {
      foreign++;
      continue;
    }
    if (seen.has(j)) repeated++;
    seen.add(j);
    lo = Math.min(lo, j);
    hi = Math.max(hi, j);
    const offset = vid[i].dts - src[j].dts;
    if (lastOffset !== null && offset !== lastOffset) jumps++;
    lastOffset = offset;
  }
  const span = seen.size === 0 ? 0 : hi - lo + 1;
  let lostAudio = 0;
  if (seen.size > 0 && lastOffset !== null) {
    const from = src[lo].dts;
    const to = src[hi].dts;
    const audioAt = new Set(got.filter((p) => p.media === 'audio').map((p) => p.dts - lastOffset));
    for (const a of source)
      if (a.media === 'audio' && a.dts >= from && a.dts <= to && !audioAt.has(a.dts)) lostAudio++;
  }
  return {
    frames: vid.length,
    sourceFrames: span,
    lostFrames: span - seen.size,
    repeatedFrames: repeated,
    foreignFrames: foreign,
    offsetJumps: jumps,
    maxTsGapMs: maxGap,
    lostAudio,
  };
}
