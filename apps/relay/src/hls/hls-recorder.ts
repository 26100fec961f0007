import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@astral/config';
import type { HlsSegmenterApi } from '@astral/media';
import { LogThrottle } from '@astral/net';

/** A recording that falls this far behind the disk skips segments rather than hold more in memory. */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
const PLAYLIST = 'index.m3u8';

/** One segment of a plain playlist, as the recorder copies it: its tags (URIs made local) and its name. */
export interface RecordedSegment {
  msn: number;
  /** The media name under the epoch (`s12.m4s`). */
  name: string;
  /** The init segment it needs (`init0.mp4`). */
  init: string | null;
  /** EXTINF and the other per-segment tags (discontinuity, program date-time), without EXT-X-MAP. */
  tags: string[];
}

export interface PlainPlaylist {
  version: number;
  targetDurationS: number;
  segments: RecordedSegment[];
}

/** Reads the segments a plain playlist of `epoch` lists (pure; the segmenter's own output). */
export function readPlainPlaylist(text: string, epoch: string): PlainPlaylist {
  let version = 7;
  let targetDurationS = 0;
  let msn = 0;
  let init: string | null = null;
  let tags: string[] = [];
  const segments: RecordedSegment[] = [];
  const local = (uri: string): string => (uri.startsWith(`${epoch}/`) ? uri.slice(epoch.length + 1) : uri);
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const value = line.slice(line.indexOf(':') + 1);
    if (line.startsWith('#EXT-X-VERSION:')) version = Number(value);
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDurationS = Number(value);
    else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) msn = Number(value);
    else if (line.startsWith('#EXT-X-MAP:')) init = local(/URI="([^"]*)"/.exec(line)?.[1] ?? '');
    else if (/^#(EXTINF|EXT-X-DISCONTINUITY$|EXT-X-PROGRAM-DATE-TIME|EXT-X-GAP|EXT-X-BITRATE)/.test(line))
      tags.push(line);
    else if (!line.startsWith('#')) {
      segments.push({ msn, name: local(line), init, tags });
      msn += 1;
      tags = [];
    }
  }
  return { version, targetDurationS, segments };
}

/**
 * Records one stream's segmenting run to `<dir>/<streamId>/<epoch>/`: its init segments, every completed
 * segment, and an EVENT playlist naming them (playable by any HLS player, growing while the run lasts,
 * ended with EXT-X-ENDLIST). Disk errors are logged (throttled) and never stop the stream; a disk too slow
 * for the stream skips segments (logged) rather than hold more than 64 MiB.
 */
export class HlsRecorder {
  private readonly dir: string;
  private readonly errors = new LogThrottle(10_000, 10);
  private queue: Promise<void>;
  private queuedBytes = 0;
  private nextMsn: number | null = null;
  private headerTargetS = 0;
  private lastInit: string | null = null;
  private readonly inits = new Set<string>();
  private gap = false;
  private finished = false;

  constructor(
    root: string,
    private readonly streamId: string,
    private readonly segmenter: HlsSegmenterApi,
    private readonly log: Logger,
  ) {
    this.dir = join(root, streamId, segmenter.epoch);
    this.queue = mkdir(this.dir, { recursive: true }).then(
      () => log.info({ streamId, epoch: segmenter.epoch, dir: this.dir }, 'HLS recording started'),
      (err: Error) => this.failed('cannot create the recording directory', err),
    );
  }

  /** Writes what completed since the last call (called on every segmenter change). */
  update(): void {
    if (this.finished) return;
    const text = this.segmenter.playlist('plain');
    if (text === null) return;
    const playlist = readPlainPlaylist(text, this.segmenter.epoch);
    for (const seg of playlist.segments) {
      if (this.nextMsn !== null && seg.msn < this.nextMsn) continue;
      this.nextMsn = seg.msn + 1;
      const found = this.segmenter.find(seg.name);
      const init = seg.init ? this.segmenter.find(seg.init) : null;
      const bytes = (found.kind === 'ready' ? found.bytes : 0) + (init?.kind === 'ready' ? init.bytes : 0);
      if (found.kind !== 'ready' || this.queuedBytes + bytes > MAX_QUEUED_BYTES) {
        this.gap = true;
        this.failed(
          `segment ${seg.name} skipped`,
          new Error(found.kind === 'ready' ? 'the disk is too slow' : 'gone'),
        );
        continue;
      }
      const lines: string[] = [];
      if (this.headerTargetS === 0) {
        this.headerTargetS = playlist.targetDurationS;
        lines.push(
          '#EXTM3U',
          `#EXT-X-VERSION:${playlist.version}`,
          `#EXT-X-TARGETDURATION:${playlist.targetDurationS}`,
          '#EXT-X-PLAYLIST-TYPE:EVENT',
          `#EXT-X-MEDIA-SEQUENCE:${seg.msn}`,
          '#EXT-X-INDEPENDENT-SEGMENTS',
        );
      }
      if (seg.init && init?.kind === 'ready' && !this.inits.has(seg.init)) {
        this.inits.add(seg.init);
        this.write(seg.init, init.chunks, init.bytes);
      }
      if (this.gap && !seg.tags.includes('#EXT-X-DISCONTINUITY')) lines.push('#EXT-X-DISCONTINUITY');
      this.gap = false;
      if (seg.init && seg.init !== this.lastInit) lines.push(`#EXT-X-MAP:URI="${seg.init}"`);
      this.lastInit = seg.init;
      lines.push(...seg.tags, seg.name);
      this.write(seg.name, found.chunks, found.bytes);
      this.append(lines.join('\n') + '\n');
      if (playlist.targetDurationS > this.headerTargetS) this.raiseTarget(playlist.targetDurationS);
    }
  }

  /** The run ended: the last segments, then EXT-X-ENDLIST. */
  finish(): void {
    this.update();
    this.finished = true;
    if (this.headerTargetS > 0) this.append('#EXT-X-ENDLIST\n');
    this.queue = this.queue.then(() =>
      this.log.info(
        { streamId: this.streamId, epoch: this.segmenter.epoch, dir: this.dir },
        'HLS recording ended',
      ),
    );
  }

  /** Resolves once everything queued is on disk (or failed and was logged). */
  flushed(): Promise<void> {
    return this.queue;
  }

  private write(name: string, chunks: Buffer[], bytes: number): void {
    this.queuedBytes += bytes;
    this.enqueue(`cannot write ${name}`, async () => {
      try {
        await writeFile(join(this.dir, name), chunks);
      } finally {
        this.queuedBytes -= bytes;
      }
    });
  }

  private append(text: string): void {
    this.enqueue(`cannot write ${PLAYLIST}`, () => appendFile(join(this.dir, PLAYLIST), text));
  }

  /** A longer segment than the header's target: the EVENT playlist's header is corrected in place. */
  private raiseTarget(targetS: number): void {
    this.headerTargetS = targetS;
    const path = join(this.dir, PLAYLIST);
    this.enqueue(`cannot rewrite ${PLAYLIST}`, async () => {
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.replace(/^#EXT-X-TARGETDURATION:\d+$/m, `#EXT-X-TARGETDURATION:${targetS}`));
    });
  }

  private enqueue(what: string, job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch((err: Error) => this.failed(what, err));
  }

  private failed(what: string, err: Error): void {
    const suppressed = this.errors.take(what.replace(/\S+\.(m4s|mp4)/, '<media>'));
    if (suppressed === null) return;
    this.log.warn(
      {
        streamId: this.streamId,
        epoch: this.segmenter.epoch,
        dir: this.dir,
        err: err.message,
        ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
      },
      `HLS recording: ${what}; the stream goes on, the recording has a gap`,
    );
  }
}
