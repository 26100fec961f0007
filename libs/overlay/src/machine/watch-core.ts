import {
  AgentPatterns,
  DirectoryPatterns,
  type AgentEventBody,
  type EventPattern,
  type PayloadOf,
  type RequestPattern,
} from '@astral/contracts';
import { Effect, PendingCalls, emitEffect, requestEffect } from './effects';
import { PeerListing, disjointFrom } from './watch-rules';
import type { Purpose, WatchCall, WatchConfig, WatchFacts, Watched } from './watch-types';

/** Timeouts of the machine's requests, as the agent has always used them. */
export const TIMEOUTS = {
  /** A peer's ticket request or confirm. */
  peer: 1000,
  /** A supernode's carrier list: it has a fallback (the directory), so a dead one costs 400 ms. */
  supernode: 400,
  directory: 3000,
  /** Loopback to this node's relay through Redis: generous on a busy machine. */
  relay: 5000,
} as const;

/** After this long without a ticket, a node that cannot forward may take a forwarder's last slots. */
export const PATIENT_AFTER_MS = 5_000;

/**
 * A standby that shares a node with the primary's path below the source (taken because no disjoint one was
 * offered, or whose path moved since) dies with that node: a round for a disjoint one is tried this often.
 */
export const STANDBY_UPGRADE_MS = 10_000;

/** Does the standby share no node with the primary's path below the source? */
export function standbyDisjoint(w: Watched): boolean {
  return !w.standby || !w.primary || disjointFrom(w.standby.path, w.primary.path);
}

/**
 * The state and the effect buffer every part of the watching machine shares during one input. Not a
 * machine itself: WatchMachine owns one and hands it to the parts (acquire, upkeep).
 */
export class WatchCore {
  readonly streams = new Map<string, Watched>();
  readonly calls = new PendingCalls<WatchCall>();
  /** The directory's listings of the nodes that offered us tickets (refreshed on a disagreement). */
  listings = new Map<string, PeerListing>();
  facts: WatchFacts = {
    canForward: true,
    supernodeId: null,
    peersAccountable: true,
    forwarding: [],
    leaving: false,
  };
  out: Effect[] = [];
  /** The heartbeat timer is set (one for all held tickets, at a steady pace). */
  heartbeatArmed = false;
  now = 0;
  private nextRound = 1;

  constructor(readonly cfg: WatchConfig) {}

  get nodeId(): string {
    return this.cfg.nodeId;
  }

  roundId(): number {
    return this.nextRound++;
  }

  request<P extends RequestPattern>(
    call: WatchCall,
    pattern: P,
    to: string | null,
    body: PayloadOf<P>,
    timeoutMs: number,
  ): void {
    this.out.push(requestEffect(this.calls.open(call), pattern, to, body, timeoutMs));
  }

  emit<P extends EventPattern>(pattern: P, to: string | null, body: PayloadOf<P>): void {
    this.out.push(emitEffect(pattern, to, body));
  }

  /** Tells an upstream we no longer want a ticket it granted or offered; best effort. */
  cancel(nodeId: string, ticketId: string, reason: string): void {
    this.emit(AgentPatterns.TicketCancel, nodeId, { ticketId, requesterId: this.nodeId, reason });
  }

  carrying(streamId: string, hops: number, carrying: boolean): void {
    this.emit(DirectoryPatterns.Carrying, null, { streamId, nodeId: this.nodeId, hops, carrying });
  }

  publish(event: AgentEventBody): void {
    this.out.push({ kind: 'publish', event });
  }

  log(level: 'debug' | 'info' | 'warn', msg: string, fields?: Record<string, unknown>): void {
    this.out.push({ kind: 'log', level, msg, fields });
  }

  setTimer(timer: string, afterMs: number): void {
    this.out.push({ kind: 'set-timer', timer, afterMs });
  }

  clearTimer(timer: string): void {
    this.out.push({ kind: 'clear-timer', timer });
  }

  /** Where `nodeId` may be reached: the directory's listing and its seed entry. */
  listingsOf(nodeId: string): PeerListing[] {
    const out: PeerListing[] = [];
    const listed = this.listings.get(nodeId);
    if (listed) out.push(listed);
    for (const s of this.cfg.seeds)
      if (s.nodeId === nodeId) out.push({ host: s.host, forwardPort: s.forwardPort, publicKey: null });
    return out;
  }

  /** Whether this node keeps a standby for the stream now. */
  wantsStandby(w: Watched): boolean {
    if (this.cfg.standby === 'players') return true;
    if (this.cfg.standby === 'forwards') return this.facts.forwarding.includes(w.streamId);
    return false;
  }
}

export const retryTimer = (purpose: Purpose, streamId: string): string => `retry:${purpose}:${streamId}`;
export const HEARTBEAT_TIMER = 'heartbeat';
export const deadlineTimer = (inbound: number, streamId: string): string => `watch:${inbound}:${streamId}`;
