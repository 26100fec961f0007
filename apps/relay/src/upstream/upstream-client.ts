import { performance } from 'node:perf_hooks';
import {
  FlvTag,
  FlvTagType,
  isKeyframe,
  isSequenceHeader,
  RelayedTimeline,
  isClockTag,
  retimed,
  SpliceStep,
  SpliceOutcome,
  StandbySplice,
} from '@astral/media';

import { Logger } from '@astral/config';
import { NodeKeys, signForwardProof } from '@astral/identity';
import { Pull } from './upstream-pull';
import { StandbyLink, StandbyMode, StandbyState } from './standby-link';

/** Timestamps further than this from the last one belong to another timeline (not a replay of ours). */
const FOREIGN_TIMELINE_MS = 5000;

/** What a loss meant: the standby took over (`promotedNodeId`), or the lost pull was the standby. */
export interface UpstreamLoss {
  promotedNodeId?: string;
  standby?: boolean;
}

export interface UpstreamClientEvents {
  onTag(tag: FlvTag): void;
  onLost(reason: string, upstreamNodeId: string, loss: UpstreamLoss): void;
  /** How a splice to the standby went (once per promotion). */
  onSplice?(outcome: SpliceOutcome): void;
  /** Bytes a standby pull received (while it is the standby). */
  onStandbyBytes?(bytes: number): void;
}

/**
 * Pulls one stream from an upstream relay's forward server and hands its tags on with timestamps that
 * stay monotonic across switches.
 *
 * A switch while the current upstream still flows is make-before-break: the new pull runs alongside and
 * takes over at its first keyframe past what was already passed on (its GOP replay is skipped), so the
 * output has neither a gap nor a repeat. When the current upstream is already gone (a crash), the new
 * pull's first keyframe is taken at once, placed right after the last output: a gap as short as the
 * reconnect, at the cost of repeating up to one GOP. With a standby (connectStandby), a crash is spliced
 * instead: the standby goes on from the first tag not yet passed on (StandbySplice, docs/RELAY.md "Standby").
 */
export class UpstreamClient {
  private active: Pull | null = null;
  private pending: Pull | null = null;
  /** Headers the pending pull sent; passed on when it takes over (the hub drops unchanged ones). */
  private pendingHeaders: FlvTag[] = [];
  /** The active pull has not yet delivered its first keyframe. */
  private activeWaitingForKeyframe = false;
  private lastInputTs: number | null = null;
  private readonly rebaser = new RelayedTimeline(1, 1000, 10_000);
  private standby: StandbyLink | null = null;
  /** The splice of the standby that became the active pull: its tags pass through it. */
  private splicing: StandbySplice | null = null;
  private closed = false;
  switches = 0;

  constructor(
    private readonly streamId: string,
    private readonly stallMs: number,
    private readonly keys: NodeKeys,
    private readonly events: UpstreamClientEvents,
    private readonly log: Logger,
  ) {}

  get upstreamNodeId(): string | null {
    return (this.pending ?? this.active)?.upstreamNodeId ?? null;
  }

  get bytesIn(): number {
    return (this.active?.bytesIn ?? 0) + (this.pending?.bytesIn ?? 0) + (this.standby?.bytesIn ?? 0);
  }

  get standbyState(): StandbyState | null {
    return this.standby?.state() ?? null;
  }

  private open(url: string, upstreamNodeId: string, ticketId: string, standby = false): Pull {
    const pull: Pull = new Pull(
      url,
      upstreamNodeId,
      signForwardProof(this.keys, ticketId, upstreamNodeId),
      this.stallMs,
      (p, tags) => this.onTags(p, tags),
      (p, reason) => this.onLost(p, reason),
      standby
        ? (n) => {
            if (pull === this.standby?.pull) this.events.onStandbyBytes?.(n);
          }
        : undefined,
    );
    return pull;
  }

  /**
   * Pulls from `url` (its ticket token included) with a fresh proof of possession for `ticketId`; if a
   * healthy upstream is flowing, switches over without a gap.
   */
  connect(url: string, upstreamNodeId: string, ticketId: string): void {
    if (this.closed) return;
    this.pending?.close();
    this.pending = null;
    this.pendingHeaders = [];
    const pull = this.open(url, upstreamNodeId, ticketId);
    if (this.active && !this.activeWaitingForKeyframe && this.lastInputTs !== null) {
      this.pending = pull;
    } else {
      this.active?.close();
      this.active = pull;
      this.splicing = null;
      this.activeWaitingForKeyframe = this.lastInputTs !== null;
      if (this.lastInputTs !== null) this.rebaser.discontinuity();
    }
    this.switches += this.lastInputTs !== null ? 1 : 0;
  }

  /** Keeps a standby pull (replacing the previous one): `receiving` pulls now, `idle` only on the primary's loss. */
  connectStandby(url: string, upstreamNodeId: string, ticketId: string, mode: StandbyMode): void {
    if (this.closed) return;
    this.standby?.close();
    this.standby = new StandbyLink(url, upstreamNodeId, ticketId, mode, (l) =>
      this.open(l.url, l.upstreamNodeId, l.ticketId, true),
    );
    this.log.info({ streamId: this.streamId, upstreamNodeId, mode }, 'standby upstream kept');
  }

  closeStandby(): boolean {
    if (!this.standby) return false;
    this.standby.close();
    this.standby = null;
    return true;
  }

  private onTags(pull: Pull, tags: FlvTag[]): void {
    for (const tag of tags) {
      if (pull === this.pending) this.fromPending(tag);
      else if (pull === this.active) this.fromActive(tag);
      else if (pull === this.standby?.pull) this.standby.splice.push(tag, performance.now());
    }
  }

  private fromActive(tag: FlvTag): void {
    if (this.splicing) {
      this.applySplice(this.splicing.push(tag, performance.now()));
      return;
    }
    this.passOn(tag);
  }

  private passOn(tag: FlvTag): void {
    if (isSequenceHeader(tag) || tag.type === FlvTagType.Script) {
      // Headers carry no media time of their own; keep them on the output timeline.
      this.events.onTag(retimed(tag, this.rebaser.latest ?? tag.timestamp));
      return;
    }
    if (this.activeWaitingForKeyframe) {
      if (!(tag.type === FlvTagType.Video && isKeyframe(tag))) return;
      this.activeWaitingForKeyframe = false;
    }
    this.emit(tag);
  }

  private applySplice(step: SpliceStep): void {
    const { outcome } = step;
    if (outcome?.kind === 'aligned') {
      this.rebaser.shift(outcome.offsetMs);
      if (this.lastInputTs !== null) this.lastInputTs += outcome.offsetMs;
    } else if (outcome?.kind === 'fallback') {
      this.rebaser.discontinuity();
      this.activeWaitingForKeyframe = true;
    }
    if (outcome) {
      this.log.info({ streamId: this.streamId, ...outcome }, `standby spliced (${outcome.kind})`);
      this.events.onSplice?.(outcome);
    }
    for (const h of step.headers) this.passOn(h);
    for (const t of step.tags) this.passOn(t);
  }

  /** The new upstream runs alongside until it reaches a keyframe past what was passed on. */
  private fromPending(tag: FlvTag): void {
    if (isClockTag(tag)) return; // live only: the active upstream's stamps go on
    if (isSequenceHeader(tag) || tag.type === FlvTagType.Script) {
      this.pendingHeaders = this.pendingHeaders.filter((h) => h.type !== tag.type).concat(tag);
      return;
    }
    if (!(tag.type === FlvTagType.Video && isKeyframe(tag))) return;
    const last = this.lastInputTs ?? 0;
    const foreign = Math.abs(tag.timestamp - last) > FOREIGN_TIMELINE_MS;
    if (!foreign && tag.timestamp <= last) return; // its GOP replay of frames we already passed on
    const previous = this.active;
    this.active = this.pending;
    this.pending = null;
    this.splicing = null;
    this.activeWaitingForKeyframe = false;
    previous?.close();
    for (const h of this.pendingHeaders) this.events.onTag(retimed(h, this.rebaser.latest ?? h.timestamp));
    this.pendingHeaders = [];
    if (foreign) this.rebaser.discontinuity();
    this.log.info(
      { streamId: this.streamId, upstreamNodeId: this.active?.upstreamNodeId },
      'switched upstream without a gap',
    );
    this.emit(tag);
  }

  private emit(tag: FlvTag): void {
    this.lastInputTs = tag.timestamp;
    this.standby?.splice.noteDelivered(tag);
    // Unchanged (no switch yet): the tag as parsed. Moved: its wire's 4 timestamp bytes are patched in place.
    this.events.onTag(retimed(tag, this.rebaser.map(tag)));
  }

  private onLost(pull: Pull, reason: string): void {
    if (pull === this.standby?.pull) {
      const lost = this.standby;
      this.standby.close();
      this.standby = null;
      this.log.warn({ streamId: this.streamId, upstreamNodeId: lost.upstreamNodeId, reason }, 'standby lost');
      this.events.onLost(reason, lost.upstreamNodeId, { standby: true });
      return;
    }
    if (pull === this.pending) {
      this.pending = null;
    } else if (pull === this.active) {
      this.active = null;
      if (this.pending) {
        // The old upstream went before the new one reached a fresh keyframe: take the new one as is.
        this.active = this.pending;
        this.pending = null;
        this.splicing = null;
        this.activeWaitingForKeyframe = true;
        for (const h of this.pendingHeaders)
          this.events.onTag(retimed(h, this.rebaser.latest ?? h.timestamp));
        this.pendingHeaders = [];
        this.rebaser.discontinuity();
        return;
      }
      if (this.standby && !this.closed) {
        this.promote(pull, reason, this.standby);
        return;
      }
    } else {
      return;
    }
    this.log.warn({ streamId: this.streamId, upstreamNodeId: pull.upstreamNodeId, reason }, 'upstream lost');
    this.events.onLost(reason, pull.upstreamNodeId, {});
  }

  /** The primary is gone: the standby becomes the active pull, through its splice. */
  private promote(lost: Pull, reason: string, link: StandbyLink): void {
    this.standby = null;
    this.active = link.ensureOpen();
    this.splicing = link.splice;
    this.activeWaitingForKeyframe = false;
    this.log.warn(
      {
        streamId: this.streamId,
        upstreamNodeId: lost.upstreamNodeId,
        promotedNodeId: link.upstreamNodeId,
        reason,
      },
      'upstream lost: the standby takes over',
    );
    this.events.onLost(reason, lost.upstreamNodeId, { promotedNodeId: link.upstreamNodeId });
    this.applySplice(link.splice.promote(performance.now()));
  }

  close(): void {
    this.closed = true;
    this.active?.close();
    this.pending?.close();
    this.standby?.close();
    this.active = null;
    this.pending = null;
    this.standby = null;
  }
}
