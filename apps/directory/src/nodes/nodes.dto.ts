import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';

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
  @Matches(/^[A-Za-z0-9.:\-[\]]{1,253}$/)
  hint?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

/** A heartbeat over HTTP: the node id is in the path. */
export class HeartbeatBody {
  @IsOptional()
  @IsInt()
  @Min(0)
  forwards?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  childCount?: number;
}

/** A promotion over HTTP: the node id is in the path. */
export class PromoteBody {
  @IsInt()
  @Min(1)
  @Max(100000)
  maxChildren!: number;
}
