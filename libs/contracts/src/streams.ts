import { Type } from 'class-transformer';
import { IsHost, IsPort, type Integer, type IsoDateTime, type Uuid } from './common';
import { AnnounceBody, MAX_PAGE_SIZE } from './directory-http';
import { STREAM_ID_PATTERN, STREAM_ID_RULE } from './stream-id';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

export { STREAM_ID_MAX_LENGTH, STREAM_ID_MIN_LENGTH, STREAM_ID_PATTERN, STREAM_ID_RULE } from './stream-id';

export class CreateStreamRequest {
  @IsUUID()
  sourceNodeId!: string;

  @IsString()
  @MaxLength(200)
  title!: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class StreamRef {
  @Matches(STREAM_ID_PATTERN, { message: `streamId ${STREAM_ID_RULE}` })
  streamId!: string;
}

/** The stream's source node ends it: only the node that published a stream may end it over the bus. */
export class EndStreamRequest extends StreamRef {
  @IsUUID()
  nodeId!: string;
}

/** AnnounceBody and the stream's id (over HTTP the id is in the path). */
export class AnnounceStream extends AnnounceBody {
  @Matches(STREAM_ID_PATTERN, { message: `streamId ${STREAM_ID_RULE}` })
  streamId!: string;
}

export class ListStreamsRequest {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @IsOptional()
  @IsIn(['live', 'ended', 'created', 'any'])
  status?: 'live' | 'ended' | 'created' | 'any';

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  pageSize?: number;
}

/** A node tells the directory it now carries (or no longer carries) a stream, at a depth in its tree. */
export class CarryingStream extends StreamRef {
  @IsUUID()
  nodeId!: string;

  @IsInt()
  @Min(0)
  @Max(1000)
  hops!: number;

  @IsBoolean()
  carrying!: boolean;
}

export type StreamStatus = 'created' | 'live' | 'ended';

/**
 * A stream as the directory lists it. A reply shape, built as a plain object and not validated on receipt
 * (a class so that OpenAPI documents it).
 */
export class StreamInfo {
  streamId!: string;
  title!: string;
  description!: string;
  sourceNodeId!: Uuid;
  status!: StreamStatus;
  /** Bits per second, as the source measured it; null until it announced one. */
  bitrateBps!: Integer | null;
  createdAt!: IsoDateTime;
  /** Null until the stream went live. */
  startedAt!: IsoDateTime | null;
  /** Null until the stream ended. */
  endedAt!: IsoDateTime | null;
  /** Players of the stream over all its carriers (from their heartbeats), loopback players included. */
  viewers!: Integer;
  /** Nodes that carry it now. */
  carriers!: Integer;
  /** The video's size, from the source's heartbeat; null until known. */
  width!: Integer | null;
  height!: Integer | null;
  /** Upload its carriers have free now, bits per second; null when one of them is unlimited. */
  freeCapacityBps!: Integer | null;
  /**
   * The directory's judgement that the stream needs more carriers: its carriers have room for fewer than two
   * more viewers, or a placement within the last 30 s found no carrier but the source. Seeders read it.
   */
  needsCapacity!: boolean;
  /** Whether the directory holds a recent preview image (GET /streams/:id/preview.jpg). */
  hasPreview!: boolean;
}

/** One page of ListStreams, newest first; a reply shape like StreamInfo. */
export class StreamPage {
  items!: StreamInfo[];
  total!: Integer;
  page!: Integer;
  pageSize!: Integer;
}

/** A node that carries a stream, as the directory or a supernode lists it; validated on receipt. */
export class CarrierInfo {
  @IsUUID()
  nodeId!: string;

  @IsInt()
  @Min(0)
  @Max(1000)
  hops!: number;

  @IsHost()
  host!: string;

  @IsPort()
  forwardPort!: number;

  @IsPort()
  apiPort!: number;

  /** The node it pulls the stream from (its heartbeat's report); null at the source or until reported. */
  @IsOptional()
  @IsUUID()
  upstreamNodeId?: string | null;

  /** Players of the stream on this node, loopback players included (its heartbeat's report). */
  @IsOptional()
  @IsInt()
  @Min(0)
  players?: number;
}
