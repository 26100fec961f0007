
import { IsBoolean, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';

const HOST = /^[A-Za-z0-9.:\-[\]]{1,253}$/;

/** How a node can be reached: its relay's ports and its agent's local API. */
export class NodeAddress {
  @Matches(HOST, { message: 'host must be a hostname or an IP address' })
  host!: string;

  @IsInt() @Min(1) @Max(65535)
  rtmpPort!: number;

  @IsInt() @Min(1) @Max(65535)
  httpPort!: number;

  @IsInt() @Min(1) @Max(65535)
  forwardPort!: number;

  @IsInt() @Min(1) @Max(65535)
  apiPort!: number;
}

export class RegisterNodeRequest extends NodeAddress {
  @IsUUID()
  nodeId!: string;

  /** Bits per second this node may upload; absent means unlimited. */
  @IsOptional() @IsInt() @Min(0)
  uploadLimitBps?: number;

  @IsString() @MaxLength(32)
  version!: string;
}

export class NodeHeartbeat {
  @IsUUID()
  nodeId!: string;

  @IsOptional() @IsInt() @Min(0)
  forwards?: number;

  /** For a supernode: how many member nodes it has now. */
  @IsOptional() @IsInt() @Min(0)
  childCount?: number;
}

/** A node becomes a supernode (it had no supernode with room to join, or it was asked to). */
export class PromoteSupernode {
  @IsUUID()
  nodeId!: string;

  @IsInt() @Min(1) @Max(100000)
  maxChildren!: number;
}

/** Supernodes for a joining node: those with spare capacity first, then the closest by the hint. */
export class ListSupernodesRequest {
  @IsOptional() @IsUUID()
  nodeId?: string;

  /** The joining node's address; supernodes sharing more of its prefix are considered closer. */
  @IsOptional() @Matches(HOST)
  hint?: string;

  @IsOptional() @IsInt() @Min(1) @Max(1000)
  limit?: number;
}

export class NodeRef {
  @IsUUID()
  nodeId!: string;
}

export class ListNodesRequest {
  @IsOptional() @IsBoolean()
  supernodesOnly?: boolean;
}

export interface NodeInfo extends NodeAddress {
  nodeId: string;
  supernode: boolean;
  /** For supernodes: the cap on members and how many it has (from its heartbeats). */
  maxChildren: number | null;
  childCount: number;
  uploadLimitBps: number | null;
  lastSeenAt: string;
  version: string;
}

export interface RegisterNodeReply {
  node: NodeInfo;
  heartbeatIntervalMs: number;
  supernodes: NodeInfo[];
}


