import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import type { Integer, IsoDateTime, Uuid } from './common';

/**
 * Placement (issue 14): where a viewer should play a stream. The directory ranks the stream's carriers by
 * free upload (forwards and players share one budget per node), spreads viewers among them, and names the
 * source only when no other carrier has room. Each candidate carries a play token the directory signed.
 */

/** The query parameter that carries a play token on a node's play URLs (`/live/<id>.flv?play=…`). */
export const PLAY_TOKEN_PARAM = 'play';

/**
 * The query parameter by which a player asks for the source's wall-clock stamps (`?clock=1`): the relay sends
 * onAstralClock script tags only to players that ask (the stream page does) and always to forwards, so plain
 * players (ffprobe, VLC) see just audio and video.
 */
export const CLOCK_PARAM = 'clock';

/** How many candidates a placement returns unless asked (`limit`), and at most. */
export const PLACEMENT_DEFAULT_CANDIDATES = 3;
export const PLACEMENT_MAX_CANDIDATES = 8;

/** How long a play token is good for: long enough to connect and reconnect, short enough to be useless later. */
export const PLAY_TOKEN_TTL_MS = 60_000;

/** A signed play token: base64url claims, a dot, a base64url Ed25519 signature (86 characters). */
export const PLAY_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,1000}\.[A-Za-z0-9_-]{86}$/;

/** GET /api/streams/:id/play, GET /streams/:id/play.flv and GET /streams/:id/play.m3u8. */
export class PlacementQuery {
  /** Nodes not to offer (comma-separated ids): the ones this viewer just lost or could not reach. */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',').filter((s) => s.length > 0) : value,
  )
  @IsArray()
  @ArrayMaxSize(16)
  @IsUUID('all', { each: true })
  exclude?: string[];

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(PLACEMENT_MAX_CANDIDATES)
  limit?: number;
}

/** The query parameter of GET /streams/:id/play.m3u8 that asks for the LL-HLS playlist (`ll=1`) over plain HLS. */
export const LL_HLS_PARAM = 'll';

/** GET /streams/:id/play.m3u8: a placement, and which playlist to redirect to (`ll=1`: LL-HLS; none or 0: HLS). */
export class PlayHlsQuery extends PlacementQuery {
  /** Only `0` or `1`: anything else (`true`, empty, repeated) is refused rather than read as plain HLS. */
  @IsOptional()
  @IsIn(['0', '1'])
  ll?: '0' | '1';
}

/** One node a viewer may play from, best first; a reply shape (a class so that OpenAPI documents it). */
export class PlayCandidate {
  nodeId!: Uuid;
  hops!: Integer;
  /** Whether this is the stream's source (offered only when no other carrier has room). */
  source!: boolean;
  /** Upload the node has free after this viewer, bits per second; null for an unlimited node. */
  freeBps!: Integer | null;
  /** Ready-to-play URLs, each with the play token. */
  flvUrl!: string;
  wsUrl!: string;
  rtmpUrl!: string;
  /** HLS (`/live/<id>/index.m3u8`) and Low-Latency HLS (`/live/<id>/ll.m3u8`), each with the play token. */
  hlsUrl!: string;
  llHlsUrl!: string;
  token!: string;
  expiresAt!: IsoDateTime;
}

export class PlacementReply {
  streamId!: string;
  /** The stream's bit rate, as its source measures it; null until known. */
  bitrateBps!: Integer | null;
  candidates!: PlayCandidate[];
}
