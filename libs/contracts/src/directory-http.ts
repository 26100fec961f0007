import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsUUID,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { HOST_PATTERN } from './common';
import { STREAM_ID_PATTERN, STREAM_ID_RULE } from './stream-id';

/** The most items one list route of the directory's HTTP API returns; asking for more is refused with 400. */
export const MAX_PAGE_SIZE = 100;

/**
 * A node's signature on an HTTP request to the directory (docs/DIRECTORY.md, "Credentials"): the node's id, the
 * time (epoch ms), a fresh nonce and an Ed25519 signature of the canonical request (@astral/identity,
 * http-signature.ts). Header names are lowercase, as Node.js reads them.
 */
export const NodeSignatureHeaders = {
  node: 'x-astral-node',
  timestamp: 'x-astral-timestamp',
  nonce: 'x-astral-nonce',
  signature: 'x-astral-signature',
} as const;

/** The first line of the canonical string a node signs: names the scheme, so no other signed text can pass for it. */
export const HTTP_SIGNATURE_SCHEME = 'astral-http-v1';

/** A signed request's nonce: 16-64 base64url characters, never used twice within the replay window. */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/** How far a signed request's timestamp may be from the directory's clock, either way. */
export const SIGNED_REQUEST_WINDOW_MS = 30_000;

/**
 * The directory's HTTP forms of bus requests (apps/directory's *.http.controller.ts): query strings, where
 * booleans and numbers arrive as text, and bodies whose id is in the path. Same rules as the bus requests: a body
 * is the bus request's base class (NodeHeartbeat extends HeartbeatBody with the id), so they are declared once.
 */

/** ListNodesRequest as a query string, where booleans arrive as text. */
export class ListNodesQuery {
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value,
  )
  @IsBoolean()
  supernodesOnly?: boolean;

  /** Nodes to skip (in registration order), to page through more than `limit`. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;

  /** At most this many nodes (default and maximum 100). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;
}

/** The carriers of a stream over HTTP, nearest the source first. */
export class ListCarriersQuery {
  /** At most this many carriers (default and maximum 100). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;
}

/** ListSupernodesRequest as a query string, where numbers arrive as text. */
export class ListSupernodesQuery {
  @IsOptional()
  @IsUUID()
  nodeId?: string;

  @IsOptional()
  @Matches(HOST_PATTERN)
  hint?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;
}

/** The most streams one heartbeat reports; a node carrying more reports the ones with most players. */
export const MAX_HEARTBEAT_STREAMS = 100;

/** One stream a node carries, as its heartbeat reports it (issue 14: what the directory knows). */
export class HeartbeatStream {
  @Matches(STREAM_ID_PATTERN, { message: `streamId ${STREAM_ID_RULE}` })
  streamId!: string;

  @IsInt()
  @Min(0)
  @Max(1000)
  hops!: number;

  /** The node it pulls the stream from; absent at the source. */
  @IsOptional()
  @IsUUID()
  upstreamNodeId?: string;

  /** Players of the stream on this node that cost upload (not over loopback). */
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  players!: number;

  /** Players on the node's own machine (loopback): they watch, but cost no upload. */
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  localPlayers!: number;

  /** Forwards of the stream to downstream nodes. */
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  forwards!: number;

  /** The stream's bit rate as this node's relay measures it. */
  @IsInt()
  @Min(0)
  @Max(10_000_000_000)
  bitrateBps!: number;

  /** The video's size, from its sequence header; absent until known. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(16384)
  width?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(16384)
  height?: number;
}

/** NodeHeartbeat over HTTP: the node id is in the path. */
export class HeartbeatBody {
  @IsOptional()
  @IsInt()
  @Min(0)
  forwards?: number;

  /** For a supernode: how many member nodes it has now. */
  @IsOptional()
  @IsInt()
  @Min(0)
  childCount?: number;

  /** The supernode this node is a member of, for the network view. */
  @IsOptional()
  @IsUUID()
  supernodeId?: string;

  /** What the node uploads now, forwards and players together (bits per second, loopback not counted). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000_000_000)
  uploadBps?: number;

  /**
   * Upload promised now: the bit rate of every forward ticket and every non-local player. The node's free
   * capacity is its upload limit minus this; placement and seeding read it.
   */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000_000_000)
  committedBps?: number;

  /** Players on the node that cost upload, over all streams. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  players?: number;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_HEARTBEAT_STREAMS)
  @ValidateNested({ each: true })
  @Type(() => HeartbeatStream)
  streams?: HeartbeatStream[];
}

/** PromoteSupernode over HTTP: the node id is in the path. */
export class PromoteBody {
  @IsInt()
  @Min(1)
  @Max(100000)
  maxChildren!: number;
}

/** AnnounceStream over HTTP: the stream id is in the path. */
export class AnnounceBody {
  @IsUUID()
  nodeId!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  bitrateBps?: number;
}
