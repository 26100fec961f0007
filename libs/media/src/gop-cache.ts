import {
  FlvTag,
  isAudioSequenceHeader,
  isKeyframe,
  isMetadata,
  isVideoFrame,
  isVideoSequenceHeader,
} from './flv/flv-tag';
import { isClockTag } from './amf/clock-tag';

export interface GopCacheLimits {
  /** Upper bound on bytes kept for the current group of pictures. */
  maxBytes: number;
  /** Upper bound on tags kept for the current group of pictures. */
  maxTags: number;
}

export const DEFAULT_GOP_LIMITS: GopCacheLimits = { maxBytes: 16 * 1024 * 1024, maxTags: 4096 };

/**
 * What a newly joining consumer needs to start decoding at once: onMetaData, the codec sequence
 * headers, and every tag since the last keyframe. Bounded: a GOP that outgrows the limits is dropped
 * and the cache waits for the next keyframe.
 */
export class GopCache {
  metadata: FlvTag | null = null;
  videoSequenceHeader: FlvTag | null = null;
  audioSequenceHeader: FlvTag | null = null;
  private gop: FlvTag[] = [];
  private gopBytes = 0;

  constructor(private readonly limits: GopCacheLimits = DEFAULT_GOP_LIMITS) {}

  /** Records a tag. Returns which role the tag had, so callers can act on headers. */
  add(tag: FlvTag): 'metadata' | 'video-header' | 'audio-header' | 'keyframe' | 'frame' | 'skipped' {
    if (isMetadata(tag)) {
      this.metadata = tag;
      return 'metadata';
    }
    // The source's wall-clock stamp is live only: a joiner replayed an old one would read a false latency.
    if (isClockTag(tag)) return 'skipped';
    if (isVideoSequenceHeader(tag)) {
      this.videoSequenceHeader = tag;
      return 'video-header';
    }
    if (isAudioSequenceHeader(tag)) {
      this.audioSequenceHeader = tag;
      return 'audio-header';
    }
    // An AVC end-of-sequence marker is keyframe-typed but no picture: a GOP must not start there.
    if (isKeyframe(tag) && isVideoFrame(tag)) {
      this.gop = [tag];
      this.gopBytes = tag.data.length;
      return 'keyframe';
    }
    if (this.gop.length === 0) return 'skipped';
    if (this.gop.length >= this.limits.maxTags || this.gopBytes + tag.data.length > this.limits.maxBytes) {
      this.gop = [];
      this.gopBytes = 0;
      return 'skipped';
    }
    this.gop.push(tag);
    this.gopBytes += tag.data.length;
    return 'frame';
  }

  /** Headers first, then the GOP from its keyframe. */
  joinSequence(): FlvTag[] {
    const out: FlvTag[] = [];
    if (this.metadata) out.push(this.metadata);
    if (this.videoSequenceHeader) out.push(this.videoSequenceHeader);
    if (this.audioSequenceHeader) out.push(this.audioSequenceHeader);
    return out.concat(this.gop);
  }

  get headers(): FlvTag[] {
    return [this.metadata, this.videoSequenceHeader, this.audioSequenceHeader].filter(
      (t): t is FlvTag => t !== null,
    );
  }

  get gopLength(): number {
    return this.gop.length;
  }

  get bytes(): number {
    return this.gopBytes;
  }

  clear(): void {
    this.metadata = null;
    this.videoSequenceHeader = null;
    this.audioSequenceHeader = null;
    this.gop = [];
    this.gopBytes = 0;
  }
}
