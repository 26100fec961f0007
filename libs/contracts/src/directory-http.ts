import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';
import { HOST_PATTERN } from './common';

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
  @Max(1000)
  limit?: number;
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
