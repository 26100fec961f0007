import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';
import { NodeInfo, NodeRef, RegisterNodeReply, RegisterNodeRequest } from '@astral/contracts';
import { NodesService } from './nodes.service';

/** ListNodesRequest as a query string, where booleans arrive as text. */
export class ListNodesQuery {
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value,
  )
  @IsBoolean()
  supernodesOnly?: boolean;
}

@Controller('api/nodes')
export class NodesHttpController {
  constructor(private readonly nodes: NodesService) {}

  @Get()
  list(@Query() query: ListNodesQuery): Promise<NodeInfo[]> {
    return this.nodes.list(query);
  }

  @Post()
  @HttpCode(200)
  register(@Body() req: RegisterNodeRequest): Promise<RegisterNodeReply> {
    return this.nodes.register(req);
  }

  @Delete(':nodeId')
  unregister(@Param() ref: NodeRef): Promise<{ removed: boolean }> {
    return this.nodes.unregister(ref);
  }
}
