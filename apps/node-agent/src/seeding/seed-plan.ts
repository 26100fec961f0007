import type { StreamInfo } from '@astral/contracts';
import type { SeedSelector } from './seed-selector';

/** A live stream as the seeder reads it from the directory's list. */
export type SeedCandidate = Pick<
  StreamInfo,
  'streamId' | 'title' | 'sourceNodeId' | 'bitrateBps' | 'needsCapacity' | 'viewers'
>;

/** A stream this node's seeder started and still carries, with what it serves now. */
export interface SeededStream {
  streamId: string;
  /** Players of it on this node (any kind: a player is a use). */
  players: number;
  /** Forwards of it to downstream nodes: the relay's, or the tickets this node serves for it if more. */
  forwards: number;
  /** Epoch milliseconds when it last had a player or a forward (or was started). */
  lastUsedAt: number;
}

export interface SeedPolicy {
  selector: SeedSelector;
  /** A seeded stream without players and forwards this long is dropped (unless it needs capacity). */
  idleMs: number;
  /** Streams seeded at once; null: as many as the upload fits. */
  maxStreams: number | null;
}

export interface SeedPlanInput {
  nodeId: string;
  now: number;
  /** Every live stream the directory lists. */
  live: SeedCandidate[];
  /** What the seeder seeds now. */
  seeded: SeededStream[];
  /** Every stream the node carries for any reason (published, watched, seeded): never started again. */
  carried: ReadonlySet<string>;
  /** Upload this node has free now, bits per second; null is unlimited. */
  freeUploadBps: number | null;
  /** Streams not to start before the given epoch milliseconds (just dropped, or a failed start). */
  notBefore: ReadonlyMap<string, number>;
}

export interface SeedAction {
  streamId: string;
  reason: string;
}

export interface SeedPlan {
  start: SeedAction[];
  stop: SeedAction[];
}

/** The bit rate assumed for a stream the directory has no bit rate for yet: a generous 720p stream. */
export const ASSUMED_BITRATE_BPS = 3_000_000;

const bitrateOf = (s: Pick<SeedCandidate, 'bitrateBps'>): number =>
  s.bitrateBps !== null && s.bitrateBps > 0 ? s.bitrateBps : ASSUMED_BITRATE_BPS;

const mbit = (bps: number): string => `${(bps / 1e6).toFixed(2)} Mbit/s`;

/**
 * What a seeder does next (docs/SEEDING.md): pure, so the policy is tested without a network.
 *
 * Stop a seeded stream that is no longer live, at once; stop one that has had no player and no forward for
 * `idleMs` and whose carriers have room (not needsCapacity). Start a live stream that matches the selector and
 * needs capacity, that this node neither carries nor sources, whose bit rate (ASSUMED_BITRATE_BPS while unknown) fits the free upload
 * (after one copy reserved for each seeded stream that serves nobody yet), most viewers first, within maxStreams.
 */
export function planSeeding(policy: SeedPolicy, input: SeedPlanInput): SeedPlan {
  const live = new Map(input.live.map((s) => [s.streamId, s]));
  const stop: SeedAction[] = [];
  const kept: SeededStream[] = [];
  for (const s of input.seeded) {
    const info = live.get(s.streamId);
    const idleMs = input.now - s.lastUsedAt;
    if (!info) stop.push({ streamId: s.streamId, reason: 'the stream is no longer live' });
    else if (s.players + s.forwards === 0 && idleMs >= policy.idleMs && !info.needsCapacity)
      stop.push({
        streamId: s.streamId,
        reason: `no players or forwards for ${Math.round(idleMs / 1000)} s and its carriers have room`,
      });
    else kept.push(s);
  }

  let free = input.freeUploadBps;
  if (free !== null)
    for (const s of kept) if (s.players + s.forwards === 0) free -= bitrateOf(live.get(s.streamId)!);

  const start: SeedAction[] = [];
  let count = kept.length;
  const candidates = input.live
    .filter(
      (s) =>
        s.needsCapacity &&
        s.sourceNodeId !== input.nodeId &&
        !input.carried.has(s.streamId) &&
        (input.notBefore.get(s.streamId) ?? 0) <= input.now &&
        policy.selector.matches(s),
    )
    .sort((a, b) => b.viewers - a.viewers || a.streamId.localeCompare(b.streamId));
  for (const s of candidates) {
    if (policy.maxStreams !== null && count >= policy.maxStreams) break;
    if (free !== null) {
      const bitrate = bitrateOf(s);
      if (bitrate > free) continue;
      free -= bitrate;
    }
    start.push({
      streamId: s.streamId,
      reason: `its carriers need capacity (${s.viewers} viewers${s.bitrateBps ? `, ${mbit(s.bitrateBps)}` : ''}) and ${
        free === null ? 'this node has unlimited upload' : `it fits this node's free upload`
      }`,
    });
    count++;
  }
  return { start, stop };
}
