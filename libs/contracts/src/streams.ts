import { Type } from 'class-transformer';
import { IsHost, IsPort } from './common';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';

/** Stream ids double as RTMP stream names, so they stay within node-media-server's safe characters. */
export const STREAM_ID = /^[a-z0-9][a-z0-9-]{2,63}$/;

export class CreateStreamRequest {
  @IsUUID()
  sourceNodeId!: string;

  @IsString() @MaxLength(200)
  title!: string;

  @IsOptional() @IsString() @MaxLength(2000)
  description?: string;
}

export class StreamRef {
  @Matches(STREAM_ID, { message: 'streamId must be 3-64 lowercase letters, digits or dashes' })
  streamId!: string;
}

export class AnnounceStream extends StreamRef {
  @IsUUID()
  nodeId!: string;

  @IsOptional() @IsInt() @Min(0)
  bitrateBps?: number;
}

export class ListStreamsRequest {
  @IsOptional() @IsString() @MaxLength(200)
  q?: string;

  @IsOptional() @IsIn(['live', 'ended', 'created', 'any'])
  status?: 'live' | 'ended' | 'created' | 'any';

  @IsOptional() @Type(() => Number) @IsInt() @Min(1)
  page?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  pageSize?: number;
}

/** A node tells the directory it now carries (or no longer carries) a stream, at a depth in its tree. */
export class CarryingStream extends StreamRef {
  @IsUUID()
  nodeId!: string;

  @IsInt() @Min(0) @Max(1000)
  hops!: number;

  @IsBoolean()
  carrying!: boolean;
}

export type StreamStatus = 'created' | 'live' | 'ended';

export interface StreamInfo {
  streamId: string;
  title: string;
  description: string;
  sourceNodeId: string;
  status: StreamStatus;
  bitrateBps: number | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

export interface StreamPage {
  items: StreamInfo[];
  total: number;
  page: number;
  pageSize: number;
}

/** A node that carries a stream, as the directory or a supernode lists it; validated on receipt. */
export class CarrierInfo {
  @IsUUID()
  nodeId!: string;

  @IsInt() @Min(0) @Max(1000)
  hops!: number;

  @IsHost()
  host!: string;

  @IsPort()
  forwardPort!: number;

  @IsPort()
  apiPort!: number;
}
