import { createHash } from 'node:crypto';
import { FlvTag, FlvTagType, isKeyframe, isSequenceHeader, isVideoFrame } from './flv/flv-tag';
import { isClockTag } from './amf/clock-tag';

export interface StandbySpliceLimits {
  /** How much media time of each side is kept to align them (and to catch up from). */
  historyMs: number;
  /** Bytes of standby tags kept at most (a receiving standby's buffer). */
  maxBufferBytes: number;
  /** After the loss, how long the standby may send tags without aligning before the keyframe takeover. */
  alignWaitMs: number;
}

export const DEFAULT_SPLICE_LIMITS: StandbySpliceLimits = {
  historyMs: 6000,
  maxBufferBytes: 8 * 1024 * 1024,
  alignWaitMs: 1000,
};

/**
 * How the splice went, decided once after the loss. `aligned`: the standby's timeline is the primary's plus
 * `offsetMs` (the same frame carries primary ts + offsetMs on the standby); `fallback`: it could not be
 * aligned, so the standby's latest keyframe is taken as a new timeline (repeats or misses up to a GOP).
 */
export type SpliceOutcome =
  { kind: 'aligned'; offsetMs: number; skipped: number } | { kind: 'fallback'; reason: string };

/**
 * What to pass on after a standby tag (or the loss): `headers` first (the standby's decoder configuration,
 * unchanged ones are dropped downstream), then `tags`, on the standby's own timeline. With a fresh
 * `outcome`, the caller first moves its output timeline by offsetMs (aligned) or marks a discontinuity.
 */
export interface SpliceStep {
  outcome: SpliceOutcome | null;
  headers: FlvTag[];
  tags: FlvTag[];
}

interface Seen {
  ts: number;
  n: number;
}

/** A fingerprint of a frame's bytes: relays never re-encode, so the same frame has the same bytes on every path. */
export function frameFingerprint(tag: FlvTag): string {
  return createHash('sha1').update(tag.data).digest('base64');
}

/** Counts of fingerprints in a window: a fingerprint seen more than once there cannot place a frame. */
class FingerprintWindow {
  private readonly entries: { fp: string; ts: number }[] = [];
  private readonly index = new Map<string, Seen>();

  add(fp: string, ts: number): void {
    this.entries.push({ fp, ts });
    const seen = this.index.get(fp);
    if (seen) {
      seen.n += 1;
      seen.ts = ts;
    } else this.index.set(fp, { ts, n: 1 });
  }

  /** The timestamp of a frame seen exactly once, else null. */
  unique(fp: string): number | null {
    const seen = this.index.get(fp);
    return seen && seen.n === 1 ? seen.ts : null;
  }

  /** Forgets frames older than `minTs`. */
  trimBefore(minTs: number): void {
    while (this.entries.length > 0 && this.entries[0].ts < minTs) this.forget(this.entries.shift()!);
  }

  dropFirst(): void {
    const e = this.entries.shift();
    if (e) this.forget(e);
  }

  private forget(e: { fp: string }): void {
    const seen = this.index.get(e.fp)!;
    if (--seen.n === 0) this.index.delete(e.fp);
  }
}

interface Buffered {
  tag: FlvTag;
  fp: string | null;
}

/**
 * The splice of a warm standby into a relayed stream (docs/RELAY.md "Standby"). Each hop re-bases
 * timestamps, so the same frame can carry different timestamps on the primary's path and the standby's:
 * the two timelines are aligned by content, a fingerprint of each video frame's bytes that occurs once in
 * both windows, giving the standby's offset; audio shares the video's offset (one offset per path).
 *
 * When the primary is lost, the output goes on from the first standby tag of each track past the last one
 * delivered: at once from the buffer if the standby was ahead (a catch-up burst), later if it was behind
 * (its tags up to the cut are dropped as they come). Not aligned within alignWaitMs of standby tags after
 * the loss (an idle standby whose GOP replay does not overlap what was delivered, a standby just opened):
 * the keyframe takeover of a plain reconnect.
 */
export class StandbySplice {
  private readonly delivered = new FingerprintWindow();
  private readonly standbyFrames = new FingerprintWindow();
  private readonly buffer: Buffered[] = [];
  private bufferBytes = 0;
  private readonly headers = new Map<string, FlvTag>();
  private readonly lastDelivered = new Map<FlvTagType, { ts: number; data: Buffer }>();
  /** Latest standby ts of a video frame dropped from the buffer before the cut. */
  private trimmedVideoTs: number | null = null;
  private offset: number | null = null;
  private state: 'watching' | 'promoted' | 'passing' = 'watching';
  private firstAfterLoss: number | null = null;
  /** After an aligned cut: drop standby tags up to the cut as they come (a standby that was behind). */
  private filtering = true;
  /** After a fallback without a keyframe in the buffer: the next keyframe starts the output. */
  private awaitKeyframe = false;
  readonly limits: StandbySpliceLimits;

  constructor(limits: Partial<StandbySpliceLimits> = {}) {
    this.limits = { ...DEFAULT_SPLICE_LIMITS, ...limits };
  }

  /** standby ts − primary ts of the same frame, once a frame was seen on both paths; null before. */
  get offsetMs(): number | null {
    return this.offset;
  }

  get promoted(): boolean {
    return this.state !== 'watching';
  }

  /** A media tag the primary delivered (its own timeline). */
  noteDelivered(tag: FlvTag): void {
    if (this.state !== 'watching' || !isMedia(tag)) return;
    this.lastDelivered.set(tag.type, { ts: tag.timestamp, data: tag.data });
    if (!isVideoFrame(tag)) return;
    const fp = frameFingerprint(tag);
    this.delivered.add(fp, tag.timestamp);
    this.delivered.trimBefore(tag.timestamp - this.limits.historyMs);
    const standbyTs = this.standbyFrames.unique(fp);
    if (standbyTs !== null && this.delivered.unique(fp) !== null) this.offset = standbyTs - tag.timestamp;
  }

  /** A tag from the standby pull; `now` in ms (any monotonic clock). */
  push(tag: FlvTag, now: number): SpliceStep {
    if (this.state === 'passing') return this.pass(tag);
    if (isClockTag(tag)) return empty(); // the live stamps go on from the primary
    if (isSequenceHeader(tag) || tag.type === FlvTagType.Script) {
      this.headers.set(headerKey(tag), tag);
      return empty();
    }
    if (!isMedia(tag)) return empty();
    this.buffer.push({ tag, fp: null });
    this.bufferBytes += tag.data.length;
    if (isVideoFrame(tag)) {
      const fp = frameFingerprint(tag);
      this.buffer[this.buffer.length - 1].fp = fp;
      this.standbyFrames.add(fp, tag.timestamp);
      const primaryTs = this.delivered.unique(fp);
      if (primaryTs !== null && this.standbyFrames.unique(fp) !== null)
        this.offset = tag.timestamp - primaryTs;
    }
    this.trim(tag.timestamp);
    if (this.state !== 'promoted') return empty();
    this.firstAfterLoss ??= now;
    return this.tryCut(now);
  }

  /** The primary is lost: splice now if aligned, else wait for alignment (push) or fall back. */
  promote(now: number): SpliceStep {
    if (this.state !== 'watching') return empty();
    this.state = 'promoted';
    if (this.buffer.length > 0) this.firstAfterLoss = now;
    return this.tryCut(now);
  }

  private tryCut(now: number): SpliceStep {
    if (this.offset !== null) return this.cut(this.offset);
    if (this.firstAfterLoss !== null && now - this.firstAfterLoss >= this.limits.alignWaitMs)
      return this.fallback('the standby did not align with what was delivered');
    return empty();
  }

  private cut(offset: number): SpliceStep {
    const lastVideo = this.lastDelivered.get(FlvTagType.Video);
    if (this.trimmedVideoTs !== null && lastVideo && this.trimmedVideoTs - offset > lastVideo.ts)
      return this.fallback('the standby buffer no longer holds the frames after the cut');
    this.state = 'passing';
    const tags: FlvTag[] = [];
    let skipped = 0;
    for (const b of this.buffer.splice(0)) {
      if (this.wanted(b.tag)) tags.push(b.tag);
      else skipped++;
    }
    this.bufferBytes = 0;
    return { outcome: { kind: 'aligned', offsetMs: offset, skipped }, headers: this.takeHeaders(), tags };
  }

  private fallback(reason: string): SpliceStep {
    this.state = 'passing';
    this.filtering = false;
    this.offset = null;
    let start = -1;
    for (let i = this.buffer.length - 1; i >= 0 && start < 0; i--)
      if (isKeyframe(this.buffer[i].tag) && isVideoFrame(this.buffer[i].tag)) start = i;
    const tags = start < 0 ? [] : this.buffer.slice(start).map((b) => b.tag);
    this.buffer.length = 0;
    this.bufferBytes = 0;
    // Without a keyframe yet, the next one to come starts the output.
    if (start < 0) this.awaitKeyframe = true;
    return { outcome: { kind: 'fallback', reason }, headers: this.takeHeaders(), tags };
  }

  private pass(tag: FlvTag): SpliceStep {
    if (this.awaitKeyframe) {
      if (isSequenceHeader(tag) || tag.type === FlvTagType.Script) return { ...empty(), tags: [tag] };
      if (!(isKeyframe(tag) && isVideoFrame(tag))) return empty();
      this.awaitKeyframe = false;
    }
    if (this.filtering && isMedia(tag) && !this.wanted(tag)) return empty();
    return { ...empty(), tags: [tag] };
  }

  /** Is this standby media tag past the last one of its track the primary delivered? */
  private wanted(tag: FlvTag): boolean {
    const last = this.lastDelivered.get(tag.type);
    if (!last || this.offset === null) return true;
    const ts = tag.timestamp - this.offset;
    if (ts < last.ts) return false;
    // A per-track clamp on one path can move a frame by a millisecond or two: the same bytes are the same frame.
    if (ts <= last.ts + 2 && tag.data.equals(last.data)) return false;
    return ts > last.ts;
  }

  private takeHeaders(): FlvTag[] {
    const headers = [...this.headers.values()];
    this.headers.clear();
    return headers;
  }

  /** Keeps historyMs of standby media time and at most maxBufferBytes. */
  private trim(latestTs: number): void {
    const minTs = latestTs - this.limits.historyMs;
    while (
      this.buffer.length > 0 &&
      (this.bufferBytes > this.limits.maxBufferBytes || this.buffer[0].tag.timestamp < minTs)
    ) {
      const b = this.buffer.shift()!;
      this.bufferBytes -= b.tag.data.length;
      if (b.fp !== null) {
        this.standbyFrames.dropFirst();
        this.trimmedVideoTs = b.tag.timestamp;
      }
    }
  }
}

function isMedia(tag: FlvTag): boolean {
  return (tag.type === FlvTagType.Audio || tag.type === FlvTagType.Video) && !isSequenceHeader(tag);
}

function headerKey(tag: FlvTag): string {
  return tag.type === FlvTagType.Script ? 'script' : `${tag.type}`;
}

function empty(): SpliceStep {
  return { outcome: null, headers: [], tags: [] };
}
