import {
  ArrayMaxSize,
  Equals,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { Type } from 'class-transformer';
import { Refused, UnknownToPeer } from './common';
import { STREAM_ID_PATTERN } from './streams';

const HOST = /^[A-Za-z0-9.:\-[\]]{1,253}$/;

/** A node asks a supernode to take it as a member. */
export class MembershipJoin {
  @IsUUID()
  nodeId!: string;

  @Matches(HOST)
  host!: string;

  @IsInt()
  @Min(1)
  @Max(65535)
  forwardPort!: number;

  /**
   * The member's agent API port: its supernode lists it in carrier lists (CarrierInfo.apiPort). A member
   * that does not say (an older agent) is kept, but not listed as a carrier.
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65535)
  apiPort?: number;
}

export class MembershipAccepted {
  @Equals(true)
  accepted!: true;

  @IsUUID()
  supernodeId!: string;

  @IsInt()
  @Min(1)
  heartbeatMs!: number;

  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  knownSupernodes!: string[];
}

export type MembershipJoinReply = MembershipAccepted | Refused;

export class CarriedRef {
  @Matches(STREAM_ID_PATTERN)
  streamId!: string;

  @IsInt()
  @Min(0)
  @Max(1000)
  hops!: number;
}

/** A member's heartbeat to its supernode, with the streams it carries. */
export class MembershipHeartbeat {
  @IsUUID()
  nodeId!: string;

  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => CarriedRef)
  carrying!: CarriedRef[];
}

/** The supernode's answer doubles as its heartbeat back to the member. */
export class MembershipHeartbeatOk {
  @Equals(true)
  ok!: true;

  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  knownSupernodes!: string[];
}

export type MembershipHeartbeatReply = MembershipHeartbeatOk | UnknownToPeer;

export class MembershipLeave {
  @IsUUID()
  nodeId!: string;

  @IsString()
  @MaxLength(200)
  reason!: string;
}

/** A supernode that leaves tells its members to find another supernode now. */
export class MembershipRehome {
  @IsUUID()
  supernodeId!: string;

  @IsString()
  @MaxLength(200)
  reason!: string;

  /** Another supernode the member may try first. */
  @IsOptional()
  @IsUUID()
  suggestedSupernodeId?: string;
}

export class SupernodeCarriersRequest {
  @Matches(STREAM_ID_PATTERN)
  streamId!: string;

  @IsUUID()
  requesterId!: string;
}
