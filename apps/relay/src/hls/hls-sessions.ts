import type { PlayerAdmission, PlayerLease } from '../players/player-budget';
import type { DirectoryPlay, PlayerRefusalReply } from '../players/player-admission';

/**
 * HLS players as sessions (docs/RELAY.md "HLS"). HLS is request/response: no connection lasts as long as a
 * player watches, so a player is a session keyed by stream and client address, alive while it keeps asking
 * within `aliveMs` (max(10 s, 3 × target duration)). The session's first request goes through the one
 * player budget (`admit`, same rules as FLV players); later requests from that address ride its lease, and
 * the lease is released when the session expires. Several viewers behind one NAT address are one session
 * (one admission), though every byte they fetch is still charged. Pure: the clock is injected, the sweep
 * is called by its owner.
 */

/** The floor of a session's life without requests. */
export const HLS_SESSION_MIN_ALIVE_MS = 10_000;

/** How long a session of a stream whose target duration is `targetDurationS` lives without requests. */
export function sessionAliveMs(targetDurationS: number): number {
  return Math.max(HLS_SESSION_MIN_ALIVE_MS, 3 * targetDurationS * 1000);
}

/** Where the directory places a refused HLS player again: `play.m3u8`, with `ll=1` for LL-HLS. */
export function hlsDirectoryPlay(ll: boolean): DirectoryPlay {
  return ll ? { file: 'play.m3u8', query: { ll: '1' } } : { file: 'play.m3u8' };
}

/** The player budget's admission of a new session's first request (`ll`: it asked for the LL-HLS playlist). */
export type HlsAdmit = (
  streamId: string,
  address: string | undefined,
  token: string | null,
  ll: boolean,
) => PlayerAdmission;

interface HlsSession {
  streamId: string;
  lease: PlayerLease;
  lastSeen: number;
  aliveMs: number;
}

export type HlsSessionAnswer = { lease: PlayerLease; fresh: boolean } | { refused: PlayerRefusalReply };

export class HlsSessions {
  private readonly sessions = new Map<string, HlsSession>();
  private readonly perStream = new Map<string, number>();

  constructor(
    private readonly admit: HlsAdmit,
    private readonly clock: () => number = Date.now,
  ) {}

  private static key(streamId: string, address: string | undefined): string {
    return `${streamId} ${address ?? ''}`;
  }

  /**
   * The lease a request from `address` for `streamId` rides: its live session's, or a new session's if the
   * budget admits it (`token`: the request's `?play=`, looked at only then). `aliveMs` is renewed each time.
   */
  request(
    streamId: string,
    address: string | undefined,
    token: string | null,
    aliveMs: number,
    ll = false,
  ): HlsSessionAnswer {
    const now = this.clock();
    const key = HlsSessions.key(streamId, address);
    const live = this.sessions.get(key);
    if (live && now - live.lastSeen <= live.aliveMs) {
      live.lastSeen = now;
      live.aliveMs = aliveMs;
      return { lease: live.lease, fresh: false };
    }
    if (live) this.end(key, live); // expired, not swept yet
    const admission = this.admit(streamId, address, token, ll);
    if ('refused' in admission) return { refused: admission.refused };
    this.sessions.set(key, { streamId, lease: admission.lease, lastSeen: now, aliveMs });
    this.perStream.set(streamId, (this.perStream.get(streamId) ?? 0) + 1);
    return { lease: admission.lease, fresh: true };
  }

  /** Ends the sessions that asked nothing for their alive time; returns how many. */
  sweep(): number {
    const now = this.clock();
    let ended = 0;
    for (const [key, s] of this.sessions)
      if (now - s.lastSeen > s.aliveMs) {
        this.end(key, s);
        ended += 1;
      }
    return ended;
  }

  /** Ends every session of a stream (it ended on this relay). */
  dropStream(streamId: string): void {
    for (const [key, s] of this.sessions) if (s.streamId === streamId) this.end(key, s);
  }

  dropAll(): void {
    for (const [key, s] of this.sessions) this.end(key, s);
  }

  /** Live sessions of a stream (expired ones count until swept, at most one sweep interval). */
  count(streamId: string): number {
    return this.perStream.get(streamId) ?? 0;
  }

  get size(): number {
    return this.sessions.size;
  }

  private end(key: string, s: HlsSession): void {
    this.sessions.delete(key);
    const n = (this.perStream.get(s.streamId) ?? 1) - 1;
    if (n > 0) this.perStream.set(s.streamId, n);
    else this.perStream.delete(s.streamId);
    s.lease.release();
  }
}
