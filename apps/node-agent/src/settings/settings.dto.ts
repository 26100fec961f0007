import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { UpdateSettingsRequest } from '@astral/contracts';

export class UpdateSettingsBody implements UpdateSettingsRequest {
  @ApiPropertyOptional({
    example: '3mbit',
    description: 'Upload limit: 3mbit, 2500k, 800000, 0 (never forward) or unlimited',
  })
  @IsOptional()
  @IsString()
  @Matches(/^(unlimited|\d+(\.\d+)?\s*(k|m|g)?(bit|bps)?)$/i, {
    message: 'uploadLimit must be like 3mbit, 2500k, 0 or unlimited',
  })
  uploadLimit?: string;

  @ApiPropertyOptional({ example: 100, description: 'Members accepted when this node is a supernode' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  maxChildren?: number;
}
