import type { PlayTokenRefusal } from '@astral/identity';

/**
 * Whether one more player of a stream is served, and whether it costs upload (docs/RELAY.md, "Budget").
 * Pure: the relay's PlayerBudget gathers the numbers and acts on the answer.
 */

/** Per player of a stream whose bit rate is not measured yet (a stream seconds old): its assumed cost. */
export const UNMEASURED_PLAYER_BPS = 1_000_000;

/** What the play token of a request said. `unverifiable`: a token, but the node does not know the directory's key yet. */
export type PlayTokenCheck =
  | { kind: 'none' }
  | { kind: 'valid' }
  | { kind: 'invalid'; reason: PlayTokenRefusal; message: string }
  | { kind: 'unverifiable' };

export interface PlayerBudgetView {
  /** The node's upload limit: null unlimited, 0 none. */
  limitBps: number | null;
  /** Promised to forward tickets (the agent's word). */
  forwardCommittedBps: number;
  /** Held by the remote players already admitted. */
  playerCommittedBps: number;
  /** The stream's measured bit rate; 0 if not measured yet. */
  bitrateBps: number;
}

export type PlayerRefusalKind = 'bad-token' | 'token-required' | 'no-directory-key' | 'full';

export type PlayerDecision =
  | { admit: true; counted: boolean; placed: boolean }
  | { admit: false; kind: PlayerRefusalKind; message: string };

/** The cost of one player of a stream measured at `bitrateBps` (the floor while it is not measured). */
export function playerCostBps(bitrateBps: number): number {
  return bitrateBps > 0 ? bitrateBps : UNMEASURED_PLAYER_BPS;
}

export function decidePlayer(
  local: boolean,
  token: PlayTokenCheck,
  access: 'open' | 'placed',
  budget: PlayerBudgetView,
): PlayerDecision {
  if (token.kind === 'invalid') return { admit: false, kind: 'bad-token', message: token.message };
  const placed = token.kind === 'valid';
  if (local) return { admit: true, counted: false, placed };
  if (access === 'placed' && !placed) {
    if (token.kind === 'unverifiable') {
      return {
        admit: false,
        kind: 'no-directory-key',
        message:
          'this node does not know the directory key yet, so it cannot check the play token; try again in a few seconds',
      };
    }
    return {
      admit: false,
      kind: 'token-required',
      message:
        'this node serves placed players only: ask the directory for a placement (GET /api/streams/<id>/play) and play the URL it gives, with its ?play= token',
    };
  }
  const { limitBps, forwardCommittedBps, playerCommittedBps, bitrateBps } = budget;
  if (limitBps !== null) {
    const need = forwardCommittedBps + playerCommittedBps + playerCostBps(bitrateBps);
    if (limitBps <= 0 || need > limitBps) {
      return {
        admit: false,
        kind: 'full',
        message: `this node's upload is full (${Math.round((forwardCommittedBps + playerCommittedBps) / 1000)} of ${Math.round(limitBps / 1000)} kbit/s promised); ask the directory for a placement on a node with room`,
      };
    }
  }
  return { admit: true, counted: true, placed };
}

export type PlayerRefusalReply =
  | { status: 302; location: string }
  | { status: 403 | 503; error: 'forbidden' | 'unavailable'; message: string };

/** Where the directory places a refused player again: its play route of the same kind, with extra query. */
export interface DirectoryPlay {
  /** `play.flv` (HTTP-FLV, WS-FLV) or `play.m3u8` (HLS). */
  file: 'play.flv' | 'play.m3u8';
  /** Added after `exclude` (LL-HLS: `{ ll: '1' }`). */
  query?: Record<string, string>;
}

export const FLV_DIRECTORY_PLAY: DirectoryPlay = { file: 'play.flv' };

/**
 * How an HTTP player hears a refusal: a full node that knows the directory's public URL redirects to the
 * directory's placement of the same kind (excluding itself); else 503 with the reason; token refusals 403.
 */
export function refusalReply(
  kind: PlayerRefusalKind,
  message: string,
  where: { publicUrl: string | null; streamId: string; nodeId: string },
  play: DirectoryPlay = FLV_DIRECTORY_PLAY,
): PlayerRefusalReply {
  if (kind === 'full' && where.publicUrl) {
    const q = new URLSearchParams({ exclude: where.nodeId, ...play.query });
    return {
      status: 302,
      location: `${where.publicUrl}/streams/${encodeURIComponent(where.streamId)}/${play.file}?${q.toString()}`,
    };
  }
  if (kind === 'full' || kind === 'no-directory-key') return { status: 503, error: 'unavailable', message };
  return { status: 403, error: 'forbidden', message };
}
