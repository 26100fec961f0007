import { Fmp4Sample, Fmp4Track, Fmp4TrackRun, mediaFragment } from '../mp4';
import type { HlsPart } from './hls-window';

/** A video stream whose video stalls must not queue its audio without end (about 20 s of AAC at 48 kHz). */
const MAX_QUEUED_AUDIO = 1024;

interface TrackState {
  track: Fmp4Track;
  /** The latest sample, held until the next one of its track gives its duration. */
  held: Fmp4Sample | null;
  lastDts: number | null;
  lastDuration: number;
}

/** Where a new part begins (its first sample of the cutting track just arrived). */
export interface HlsPartBoundary {
  startTicks: number;
  /** The part begins with a keyframe (video), or anywhere in an audio-only stream. */
  sync: boolean;
}

/**
 * Cuts the samples of one init's tracks into parts, each one CMAF fragment. The cutting track is video (or
 * audio in an audio-only stream). A part ends when its next sample would make it longer than the part
 * target, and before the keyframe that ends a segment. Audio goes into the part whose time range covers its decode
 * time (or, arriving late, the next part to close). Fragment sequence numbers increase across inits.
 */
export class HlsPartBuilder {
  private states = new Map<number, TrackState>();
  private cut: TrackState | null = null;
  private open: Fmp4Sample[] = [];
  private audioQueue: Fmp4Sample[] = [];
  private sequence = 1;

  constructor(
    private readonly partTargetMs: number,
    private readonly emit: (part: HlsPart) => void,
    /** Would a keyframe at this decode time (cutting track) end the segment in progress? */
    private readonly endsSegment: (dts: number) => boolean,
  ) {}

  /** The tracks of a new init (after flush). Decode times stay monotonic across it for a track that stays. */
  reset(tracks: Fmp4Track[]): void {
    const old = this.states;
    this.states = new Map();
    for (const track of tracks) {
      const prev = [...old.values()].find(
        (s) => s.track.kind === track.kind && s.track.timescale === track.timescale,
      );
      this.states.set(track.id, {
        track,
        held: null,
        lastDts: prev?.lastDts ?? null,
        lastDuration: prev?.lastDuration ?? defaultDuration(track),
      });
    }
    this.cut =
      [...this.states.values()].find((s) => s.track.kind === 'video') ?? [...this.states.values()][0] ?? null;
  }

  get cutTimescale(): number {
    return this.cut?.track.timescale ?? 90000;
  }

  /** The latest decode time of the track (held or placed), for audio tick continuity and rebasing. */
  lastDts(track: Fmp4Track): number | null {
    return this.states.get(track.id)?.lastDts ?? null;
  }

  /** Where the cutting track's timeline ends: its last sample's decode time plus duration. */
  get cutEndTicks(): number | null {
    const c = this.cut;
    return c && c.lastDts !== null ? c.lastDts + c.lastDuration : null;
  }

  /** Adds a sample of a track of the current init; returns the boundary when it opens a new part. */
  add(track: Fmp4Track, sample: Fmp4Sample): HlsPartBoundary | null {
    const st = this.states.get(track.id);
    if (!st) return null;
    if (st.lastDts !== null && sample.dts <= st.lastDts) {
      // Equal or late decode times (after a rebase): a video frame is nudged (dropping it would break its
      // GOP), an audio frame is dropped (nudging would pile audio up and drift it from the video).
      if (track.kind === 'audio') return null;
      sample.dts = st.lastDts + 1;
    }
    const prev = st.held;
    st.held = sample;
    st.lastDts = sample.dts;
    if (prev) {
      prev.duration = sample.dts - prev.dts;
      st.lastDuration = prev.duration;
      this.place(st, prev);
    }
    if (st !== this.cut) return null;
    const video = track.kind === 'video';
    if (this.open.length === 0)
      return prev ? null : { startTicks: sample.dts, sync: !video || sample.keyframe };
    const tooLong = this.partTicks(sample.dts + (prev?.duration ?? st.lastDuration)) > this.targetTicks();
    // A keyframe inside a segment does not cut a part: parts shorter than 85% of PART-TARGET (but the
    // last of a segment) are against RFC 8216bis, and hls.js starts a segment at its first part anyway.
    if (!(video && sample.keyframe && this.endsSegment(sample.dts)) && !tooLong) return null;
    this.closePart(sample.dts);
    return { startTicks: sample.dts, sync: !video || sample.keyframe };
  }

  /** Everything held goes out (each held sample lasting as long as the one before it) in a last part. */
  flush(): void {
    for (const st of this.states.values()) {
      if (!st.held) continue;
      st.held.duration = st.lastDuration;
      this.place(st, st.held);
      st.held = null;
    }
    this.closePart(null);
  }

  private place(st: TrackState, sample: Fmp4Sample): void {
    if (st === this.cut) {
      // Guard for a part whose last frame lasted longer than the one before it: cut before it.
      if (this.open.length > 0 && this.partTicks(sample.dts + sample.duration) > this.targetTicks()) {
        this.closePart(sample.dts);
      }
      this.open.push(sample);
      return;
    }
    this.audioQueue.push(sample);
    if (this.audioQueue.length > MAX_QUEUED_AUDIO) this.audioQueue.shift();
  }

  private closePart(boundary: number | null): void {
    const cut = this.cut;
    if (!cut || this.open.length === 0) return;
    const runs: Fmp4TrackRun[] = [{ track: cut.track, baseDecodeTime: this.open[0].dts, samples: this.open }];
    const other = [...this.states.values()].find((s) => s !== cut);
    if (other) {
      // Audio decoded before the boundary: dts / audio timescale < boundary / cut timescale.
      const ts = cut.track.timescale;
      // The audio frame still held for its duration goes with this part, lasting as long as the one before
      // it: else every part's audio ended a frame short of its video, and a player that has only this part
      // (hls.js at its start) saw a buffer end short of the part's end and fetched the same part again.
      if (other.held && boundary !== null && other.held.dts * ts < boundary * other.track.timescale) {
        other.held.duration = other.lastDuration;
        this.audioQueue.push(other.held);
        other.held = null;
      }
      const before =
        boundary === null
          ? this.audioQueue.length
          : this.audioQueue.findIndex((a) => a.dts * ts >= boundary * other.track.timescale);
      const samples = this.audioQueue.splice(0, before < 0 ? this.audioQueue.length : before);
      if (samples.length > 0) runs.push({ track: other.track, baseDecodeTime: samples[0].dts, samples });
    }
    const last = this.open[this.open.length - 1];
    const part: HlsPart = {
      data: mediaFragment(this.sequence++, runs),
      durationTicks: last.dts + last.duration - this.open[0].dts,
      independent: cut.track.kind !== 'video' || this.open[0].keyframe,
    };
    this.open = [];
    this.emit(part);
  }

  private partTicks(end: number): number {
    return this.open.length === 0 ? 0 : end - this.open[0].dts;
  }

  private targetTicks(): number {
    return (this.partTargetMs * this.cutTimescale) / 1000;
  }
}

function defaultDuration(track: Fmp4Track): number {
  return track.kind === 'video' ? 3600 : 1024;
}
