/**
 * Decides whether the expiry sweep may run. A node is expired for silence, and silence only means
 * something while heartbeats could be recorded: not while Redis (which carries them) or the database
 * (which records them) was failing, and not before this directory ran. After the last such trouble,
 * the sweep waits one full expiry window (3 heartbeat intervals plus a margin), so that every live
 * node has had the chance to heartbeat again. Pure: the caller passes the clock.
 */

/** What kept heartbeats from being recorded. */
export type TroubleSource = 'start' | 'database' | 'redis';

/** Where a database failure was seen. */
export type DatabaseActivity = 'heartbeat' | 'registration' | 'probe' | 'sweep';

export interface Trouble {
  source: TroubleSource;
  /** When it began, as far as is known (epoch ms): a write that failed after waiting began when it was sent. */
  since: number;
  /** When it was last seen (epoch ms). */
  at: number;
  /** For a log line, e.g. "database unreachable: connect ECONNREFUSED 127.0.0.1:5432". */
  reason: string;
}

export interface ExpiryDecision {
  sweep: boolean;
  /** While suspended: the latest trouble's reason. */
  reason?: string;
  /** While suspended, and with change 'resumed': what the latest trouble was. */
  source?: TroubleSource;
  /** While suspended: the earliest time the sweep resumes if no new trouble is seen. */
  resumesAt?: number;
  /** Set on the decision that changes the state, for one log line each way. */
  change?: 'suspended' | 'resumed';
  /** With change 'resumed': how long expiry was suspended. */
  suspendedMs?: number;
}

/** The state of the directory's database writes, for readiness. */
export interface WriteState {
  failing: boolean;
  /** When writes started failing (the first failure after the last success). */
  since?: number;
  message?: string;
  activity?: DatabaseActivity;
}

export class ExpiryGate {
  private readonly troubles = new Map<TroubleSource, Trouble>();
  private suspendedSince?: number;
  private lastWriteOkAt = 0;
  private writeFailure?: { since: number; at: number; message: string; activity: DatabaseActivity };

  /**
   * @param startedAt the directory's start: heartbeats sent before it were not recorded by it.
   * @param marginMs added to 3 heartbeat intervals, as in the expiry bound itself.
   */
  constructor(
    readonly heartbeatIntervalMs: number,
    startedAt?: number,
    readonly marginMs = 1000,
  ) {
    if (startedAt !== undefined) {
      this.note(
        'start',
        startedAt,
        startedAt,
        'directory starting: heartbeats sent before it ran were not recorded',
      );
    }
  }

  /** How long after the last trouble the sweep resumes: one full expiry window. */
  get graceMs(): number {
    return 3 * this.heartbeatIntervalMs + this.marginMs;
  }

  /**
   * A database call failed: a heartbeat or registration write, the probe, or the sweep itself.
   * `startedAt`: when the call was made (a locked SQLite file fails a write only after its busy timeout).
   */
  databaseFailed(now: number, message: string, activity: DatabaseActivity, startedAt = now): void {
    this.note('database', startedAt, now, `database unreachable: ${message}`);
    if (activity === 'probe') return;
    if (this.writeFailure && this.writeFailure.at >= this.lastWriteOkAt) {
      this.writeFailure = {
        ...this.writeFailure,
        at: Math.max(now, this.writeFailure.at),
        message,
        activity,
      };
    } else {
      this.writeFailure = { since: now, at: now, message, activity };
    }
  }

  /**
   * A write succeeded but took longer than a heartbeat interval and a second (a locked SQLite file makes writes wait,
   * a stalled server holds them): the heartbeats behind it were not recorded on time.
   */
  databaseStalled(now: number, message: string, startedAt = now): void {
    // "unreachable" says more than "stalled": within one episode it stays the reason.
    const known = this.troubles.get('database');
    const keep =
      known && startedAt - known.at <= this.graceMs && known.reason.startsWith('database unreachable');
    this.note('database', startedAt, now, keep ? known.reason : `database stalled: ${message}`);
  }

  /** A heartbeat or registration was recorded. */
  databaseWrote(now: number): void {
    this.lastWriteOkAt = Math.max(this.lastWriteOkAt, now);
  }

  /** Redis did not answer: heartbeats may not have reached this directory. */
  redisTrouble(now: number, message: string): void {
    this.note('redis', now, now, `Redis unreachable: ${message}`);
  }

  /** Failing when the latest write failed (nothing was recorded since). */
  writeState(): WriteState {
    const f = this.writeFailure;
    if (!f || f.at < this.lastWriteOkAt) return { failing: false };
    return { failing: true, since: f.since, message: f.message, activity: f.activity };
  }

  /** The trouble seen last, if any. */
  latestTrouble(): Trouble | undefined {
    let latest: Trouble | undefined;
    for (const t of this.troubles.values()) if (!latest || t.at > latest.at) latest = t;
    return latest;
  }

  /** May the sweep run now? Also reports a change of state, once each way. */
  decide(now: number): ExpiryDecision {
    const latest = this.latestTrouble();
    if (!latest || now - latest.at >= this.graceMs) {
      if (this.suspendedSince === undefined) return { sweep: true };
      const suspendedMs = now - this.suspendedSince;
      this.suspendedSince = undefined;
      this.troubles.clear();
      return { sweep: true, change: 'resumed', suspendedMs, ...(latest && { source: latest.source }) };
    }
    const decision: ExpiryDecision = {
      sweep: false,
      reason: latest.reason,
      source: latest.source,
      resumesAt: latest.at + this.graceMs,
    };
    if (this.suspendedSince !== undefined) return decision;
    this.suspendedSince = Math.min(now, ...[...this.troubles.values()].map((t) => t.since));
    return { ...decision, change: 'suspended' };
  }

  /** Records a trouble; one seen within a grace period of the last one of its source continues that episode. */
  private note(source: TroubleSource, since: number, at: number, reason: string): void {
    const known = this.troubles.get(source);
    if (known && known.at > at) {
      known.since = Math.min(known.since, since);
      return;
    }
    const continues = known && since - known.at <= this.graceMs;
    this.troubles.set(source, {
      source,
      since: continues ? Math.min(known.since, since) : since,
      at,
      reason,
    });
  }
}
