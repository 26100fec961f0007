import { IsInt, IsOptional, IsUUID, Min } from 'class-validator';

/** AnnounceStream over HTTP: the stream id is in the path. */
export class AnnounceBody {
  @IsUUID()
  nodeId!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  bitrateBps?: number;
}
