import type { Logger } from '@astral/config';
import { PLAY_TOKEN_REFUSALS, verifyPlayToken } from '@astral/identity';
import { LogThrottle } from '@astral/net';
import { UploadBudget } from '../forward/upload-budget';
import { LocalPlayers, isLocalPlayer } from './local-address';
import {
  DirectoryPlay,
  PlayTokenCheck,
  PlayerRefusalReply,
  decidePlayer,
  playerCostBps,
  refusalReply,
} from './player-admission';

/** One admitted player: what it costs and how it came. Released when it leaves. */
export interface PlayerLease {
  readonly streamId: string;
  /** Charged to the upload budget (not local). */
  readonly counted: boolean;
  /** Showed a valid play token. */
  readonly placed: boolean;
  /** The stream's bit rate when it was admitted: it holds at least this much. */
  readonly admittedBps: number;
  /** Counts bytes sent to the player (budget and egress, for a counted one). */
  sent(bytes: number): void;
  release(): void;
}

export interface PlayerBudgetDeps {
  nodeId: string;
  budget: UploadBudget;
  access: 'open' | 'placed';
  localPlayers: LocalPlayers;
  /** The stream's measured bit rate on this relay, 0 if not measured yet. */
  bitrateOf: (streamId: string) => number;
  log: Logger;
  /** A remote player was admitted: the agent should hear of it at once (its ticket offers count players). */
  onAdmitted?: () => void;
  clock?: () => number;
}

export type PlayerAdmission = { lease: PlayerLease } | { refused: PlayerRefusalReply; reason: string };

/**
 * The players' side of the node's one upload budget: admits or refuses each new player (pure decision in
 * player-admission.ts), holds the bit rate of the admitted remote ones, charges their bytes to the relay's
 * token bucket, and checks play tokens with the directory's key.
 */
export class PlayerBudget {
  private readonly leases = new Map<string, Set<PlayerLease>>();
  private readonly refusals = new LogThrottle(10_000, 200);
  private readonly clock: () => number;
  forwardCommittedBps = 0;
  directoryKey: string | null = null;
  publicUrl: string | null = null;
  refused = 0;
  /** Bytes sent to counted players, for playerBps. */
  playerBytes = 0;

  constructor(private readonly deps: PlayerBudgetDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** Bit rate held by the admitted remote players, each at the larger of its admission rate and the stream's now. */
  committedBps(): number {
    let sum = 0;
    for (const [streamId, set] of this.leases) {
      const now = playerCostBps(this.deps.bitrateOf(streamId));
      for (const l of set) if (l.counted) sum += Math.max(now, l.admittedBps);
    }
    return sum;
  }

  counts(streamId: string): { players: number; localPlayers: number; placedPlayers: number } {
    let players = 0;
    let localPlayers = 0;
    let placedPlayers = 0;
    for (const l of this.leases.get(streamId) ?? []) {
      if (l.counted) players += 1;
      else localPlayers += 1;
      if (l.counted && l.placed) placedPlayers += 1;
    }
    return { players, localPlayers, placedPlayers };
  }

  private checkToken(token: string | null, streamId: string): PlayTokenCheck {
    if (token === null) return { kind: 'none' };
    if (!this.directoryKey) return { kind: 'unverifiable' };
    const v = verifyPlayToken(token, this.directoryKey, this.clock(), { nodeId: this.deps.nodeId, streamId });
    return v.ok
      ? { kind: 'valid' }
      : { kind: 'invalid', reason: v.reason, message: PLAY_TOKEN_REFUSALS[v.reason] };
  }

  /**
   * A player of `streamId` from `address` (its socket's remoteAddress) with its `?play=` token, if any.
   * `play`: where a full node sends it in the directory (HTTP-FLV's `play.flv` unless said).
   */
  admit(
    streamId: string,
    address: string | undefined,
    token: string | null,
    protocol: string,
    play?: DirectoryPlay,
  ): PlayerAdmission {
    const local = isLocalPlayer(address, this.deps.localPlayers);
    const bitrateBps = this.deps.bitrateOf(streamId);
    const decision = decidePlayer(local, this.checkToken(token, streamId), this.deps.access, {
      limitBps: this.deps.budget.limitBps,
      forwardCommittedBps: this.forwardCommittedBps,
      playerCommittedBps: this.committedBps(),
      bitrateBps,
    });
    if (!decision.admit) {
      this.refused += 1;
      const suppressed = this.refusals.take(`${decision.kind}:${protocol}:${address ?? ''}`);
      if (suppressed !== null) {
        this.deps.log.warn(
          {
            streamId,
            remote: address,
            protocol,
            refusal: decision.kind,
            reason: decision.message,
            ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
          },
          'player refused',
        );
      }
      const where = { publicUrl: this.publicUrl, streamId, nodeId: this.deps.nodeId };
      return {
        refused: refusalReply(decision.kind, decision.message, where, play),
        reason: decision.message,
      };
    }
    const set = this.leases.get(streamId) ?? new Set<PlayerLease>();
    this.leases.set(streamId, set);
    let released = false;
    const { budget } = this.deps;
    const lease: PlayerLease = {
      streamId,
      counted: decision.counted,
      placed: decision.placed,
      admittedBps: bitrateBps,
      sent: decision.counted
        ? (bytes) => {
            this.playerBytes += bytes;
            budget.charge(bytes);
          }
        : () => undefined,
      release: () => {
        if (released) return;
        released = true;
        set.delete(lease);
        if (set.size === 0 && this.leases.get(streamId) === set) this.leases.delete(streamId);
      },
    };
    set.add(lease);
    if (decision.counted) this.deps.onAdmitted?.();
    return { lease };
  }
}
