import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HeartbeatBody,
  ListNodesQuery,
  MAX_PAGE_SIZE,
  ListSupernodesQuery,
  NodeHeartbeat,
  NodeInfo,
  NodeRef,
  PromoteBody,
  PromoteSupernode,
  RegisterNodeReply,
  RegisterNodeRequest,
} from '@astral/contracts';
import { NodeMayCall } from '../auth/node-access';
import { RequestKey } from '../transport/request-key';
import { NodesService } from './nodes.service';

const IDEMPOTENCY = ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description: 'Retries with the same key are applied once (remembered for 10 minutes).',
});

@ApiTags('nodes')
@Controller('api')
export class NodesHttpController {
  constructor(private readonly nodes: NodesService) {}

  @Get('nodes')
  @ApiOperation({ summary: 'List nodes' })
  @ApiOkResponse({ type: [NodeInfo] })
  list(@Query() query: ListNodesQuery): Promise<NodeInfo[]> {
    return this.nodes.list(query, { offset: query.offset ?? 0, limit: query.limit ?? MAX_PAGE_SIZE });
  }

  @Post('nodes')
  @HttpCode(200)
  @IDEMPOTENCY
  @NodeMayCall({ actingFor: { body: 'nodeId' }, keyInBody: 'publicKey' })
  @ApiOperation({ summary: 'Register a node (or refresh its addresses); its id is bound to its first key' })
  @ApiOkResponse({ type: RegisterNodeReply })
  register(@Body() req: RegisterNodeRequest, @RequestKey() key?: string): Promise<RegisterNodeReply> {
    return this.nodes.register(req, key);
  }

  @Post('nodes/:nodeId/heartbeat')
  @HttpCode(204)
  @NodeMayCall({ actingFor: { param: 'nodeId' } })
  @ApiOperation({ summary: 'Heartbeat of a node' })
  @ApiBody({ type: HeartbeatBody, required: false })
  async heartbeat(@Param() ref: NodeRef, @Body() body: HeartbeatBody): Promise<void> {
    const hb: NodeHeartbeat = { nodeId: ref.nodeId, ...body };
    await this.nodes.heartbeat(hb);
  }

  @Delete('nodes/:nodeId')
  @IDEMPOTENCY
  @NodeMayCall({ actingFor: { param: 'nodeId' } })
  @ApiOperation({ summary: 'Unregister a node: its streams end' })
  unregister(@Param() ref: NodeRef, @RequestKey() key?: string): Promise<{ removed: boolean }> {
    return this.nodes.unregister(ref, key);
  }

  @Get('supernodes')
  @ApiOperation({ summary: 'Supernodes for a joining node: spare capacity first, then closest to the hint' })
  @ApiOkResponse({ type: [NodeInfo] })
  supernodes(@Query() query: ListSupernodesQuery): Promise<NodeInfo[]> {
    return this.nodes.supernodes(query);
  }

  @Post('nodes/:nodeId/supernode')
  @HttpCode(200)
  @NodeMayCall({ actingFor: { param: 'nodeId' } })
  @ApiOperation({ summary: 'Promote a node to supernode' })
  @ApiOkResponse({ type: NodeInfo })
  promote(@Param() ref: NodeRef, @Body() body: PromoteBody): Promise<NodeInfo> {
    const req: PromoteSupernode = { nodeId: ref.nodeId, maxChildren: body.maxChildren };
    return this.nodes.promote(req);
  }

  @Delete('nodes/:nodeId/supernode')
  @NodeMayCall({ actingFor: { param: 'nodeId' } })
  @ApiOperation({ summary: 'Demote a supernode' })
  @ApiOkResponse({ type: NodeInfo })
  demote(@Param() ref: NodeRef): Promise<NodeInfo> {
    return this.nodes.demote(ref);
  }
}
