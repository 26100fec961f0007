import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { HOST_PATTERN, PUBLIC_KEY_PATTERN, PUBLIC_URL_PATTERN, type IsoDateTime } from './common';
import { HeartbeatBody, PromoteBody } from './directory-http';

/** How a node can be reached: its relay's ports and its agent's local API. */
export class NodeAddress {
  @Matches(HOST_PATTERN, { message: 'host must be a hostname or an IP address' })
  host!: string;

  @IsInt()
  @Min(1)
  @Max(65535)
  rtmpPort!: number;

  @IsInt()
  @Min(1)
  @Max(65535)
  httpPort!: number;

  @IsInt()
  @Min(1)
  @Max(65535)
  forwardPort!: number;

  @IsInt()
  @Min(1)
  @Max(65535)
  apiPort!: number;
}

export class RegisterNodeRequest extends NodeAddress {
  @IsUUID()
  nodeId!: string;

  /** Bits per second this node may upload; absent means unlimited. */
  @IsOptional()
  @IsInt()
  @Min(0)
  uploadLimitBps?: number;

  @IsString()
  @MaxLength(32)
  version!: string;

  /**
   * The node's Ed25519 public key (raw 32 bytes, base64url; see @astral/identity). The directory records it
   * at the node's first registration and refuses the id with any other key from then on.
   */
  @Matches(PUBLIC_KEY_PATTERN, {
    message: 'publicKey must be an Ed25519 public key: 43 base64url characters',
  })
  publicKey!: string;
}

/** HeartbeatBody and the node's id (over HTTP the id is in the path). */
export class NodeHeartbeat extends HeartbeatBody {
  @IsUUID()
  nodeId!: string;
}

/** A node becomes a supernode (it had no supernode with room to join, or it was asked to). */
export class PromoteSupernode extends PromoteBody {
  @IsUUID()
  nodeId!: string;
}

/** Supernodes for a joining node: those with spare capacity first, then the closest by the hint. */
export class ListSupernodesRequest {
  @IsOptional()
  @IsUUID()
  nodeId?: string;

  /** The joining node's address; supernodes sharing more of its prefix are considered closer. */
  @IsOptional()
  @Matches(HOST_PATTERN)
  hint?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class NodeRef {
  @IsUUID()
  nodeId!: string;
}

export class ListNodesRequest {
  @IsOptional()
  @IsBoolean()
  supernodesOnly?: boolean;
}

/** A node as the directory lists it. Replies the agent depends on are validated on receipt (DirectoryClient). */
export class NodeInfo extends NodeAddress {
  @IsUUID()
  nodeId!: string;

  @IsBoolean()
  supernode!: boolean;

  /** For supernodes: the cap on members and how many it has (from its heartbeats). */
  @ValidateIf((n: NodeInfo) => n.maxChildren !== null)
  @IsInt()
  @Min(0)
  maxChildren!: number | null;

  @IsInt()
  @Min(0)
  childCount!: number;

  /** Bits per second; null is unlimited. */
  @ValidateIf((n: NodeInfo) => n.uploadLimitBps !== null)
  @IsInt()
  @Min(0)
  uploadLimitBps!: number | null;

  @IsString()
  @MaxLength(40)
  lastSeenAt!: IsoDateTime;

  @IsString()
  @MaxLength(32)
  version!: string;

  /** The key the node registered with; null for a node registered before keys existed. */
  @ValidateIf((n: NodeInfo) => n.publicKey !== null)
  @Matches(PUBLIC_KEY_PATTERN)
  publicKey!: string | null;

  /** What the node uploads now, forwards and players together (its last heartbeat); null until it reports it. */
  @ValidateIf((n: NodeInfo) => n.uploadBps !== null)
  @IsInt()
  @Min(0)
  uploadBps!: number | null;

  /** Upload promised to forwards and players (its last heartbeat); null until it reports it. */
  @ValidateIf((n: NodeInfo) => n.committedBps !== null)
  @IsInt()
  @Min(0)
  committedBps!: number | null;

  /** Players on the node that cost upload, over all streams (its last heartbeat). */
  @IsInt()
  @Min(0)
  players!: number;

  /** The supernode it is a member of (its last heartbeat); null for none or unknown. */
  @ValidateIf((n: NodeInfo) => n.supernodeId !== null)
  @IsUUID()
  supernodeId!: string | null;
}

/**
 * What a node learns of the directory (RegisterNodeReply) and its agent passes to its relay (SetDirectoryLink).
 * Absent fields are unknown.
 */
export class DirectoryLink {
  /**
   * The directory's Ed25519 public key (base64url), which signs play tokens (placement.ts): the node's relay
   * checks a player's `?play=` token with it. Absent from a directory that signs none.
   */
  @IsOptional()
  @Matches(PUBLIC_KEY_PATTERN, {
    message: 'directoryKey must be an Ed25519 public key: 43 base64url characters',
  })
  directoryKey?: string;

  /**
   * Where viewers reach the directory (its pages and placement API), e.g. `http://203.0.113.5:8080`: a full
   * node redirects a new HTTP-FLV player to `<publicUrl>/streams/<id>/play.flv?exclude=<its id>`.
   */
  @IsOptional()
  @IsString()
  @MaxLength(300)
  @Matches(PUBLIC_URL_PATTERN, { message: 'publicUrl must be http(s)://host[:port], without a path' })
  publicUrl?: string;
}

export class RegisterNodeReply extends DirectoryLink {
  @ValidateNested()
  @Type(() => NodeInfo)
  node!: NodeInfo;

  @IsInt()
  @Min(1)
  heartbeatIntervalMs!: number;

  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => NodeInfo)
  supernodes!: NodeInfo[];
}
