import { createHash } from 'node:crypto';

/** A snapshot's identity on the wire: equal text, equal hash (22 base64url characters of SHA-256). */
export function snapshotHash(json: string): string {
  return createHash('sha256').update(json).digest('base64url').slice(0, 22);
}

/**
 * The hash of a snapshot's content: its top-level `at` (when it was built) is left out, so two builds of the
 * same network are equal.
 */
export function contentHash(snapshot: unknown): string {
  if (snapshot === null || typeof snapshot !== 'object' || Array.isArray(snapshot)) {
    return snapshotHash(JSON.stringify(snapshot) ?? 'undefined');
  }
  const content: Record<string, unknown> = { ...(snapshot as Record<string, unknown>) };
  delete content.at;
  return snapshotHash(JSON.stringify(content));
}

/**
 * What to do with a snapshot just built: `broadcast` it to every client (it differs from the last one sent and
 * the last broadcast is at least the interval old), keep it for clients that have none yet (`unchanged`), or
 * hold it back (`throttled`): the next build, at most one interval later, sends it if it still differs.
 */
export type PushDecision = 'broadcast' | 'unchanged' | 'throttled';

/**
 * The network view's diff and throttle: a snapshot goes to every client only when its hash changed, and at most
 * once per `minIntervalMs`. Pure apart from the clock it is given; two fields, whatever runs for days.
 */
export class SnapshotThrottle {
  private sentHash: string | undefined;
  private sentAt = Number.NEGATIVE_INFINITY;

  constructor(readonly minIntervalMs = 1000) {}

  /** The hash of the last snapshot broadcast, if any. */
  get lastHash(): string | undefined {
    return this.sentHash;
  }

  decide(hash: string, now: number): PushDecision {
    if (hash === this.sentHash) return 'unchanged';
    if (now - this.sentAt < this.minIntervalMs) return 'throttled';
    this.sentHash = hash;
    this.sentAt = now;
    return 'broadcast';
  }

  /** How long until a held-back snapshot may go (0: now). */
  waitMs(now: number): number {
    return Math.max(0, this.sentAt + this.minIntervalMs - now);
  }
}
