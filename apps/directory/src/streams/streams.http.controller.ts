import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AnnounceBody,
  CarrierInfo,
  CreateStreamRequest,
  ListCarriersQuery,
  ListStreamsRequest,
  MAX_PAGE_SIZE,
  StreamInfo,
  StreamPage,
  StreamRef,
} from '@astral/contracts';
import { Actor, CurrentActor } from '../auth/actor';
import { NodeMayCall } from '../auth/node-access';
import { RequestKey } from '../transport/request-key';
import { StreamsService } from './streams.service';

@ApiTags('streams')
@Controller('api/streams')
export class StreamsHttpController {
  constructor(private readonly streams: StreamsService) {}

  @Get()
  @ApiOperation({
    summary: 'List and search streams (title search, status filter, pagination), newest first',
  })
  @ApiOkResponse({ type: StreamPage })
  list(@Query() req: ListStreamsRequest): Promise<StreamPage> {
    return this.streams.list(req);
  }

  @Post()
  @HttpCode(200)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'A retry with the same key returns the same stream.',
  })
  @NodeMayCall({ actingFor: { body: 'sourceNodeId' } })
  @ApiOperation({ summary: 'Create a stream (status created) on a registered source node' })
  @ApiOkResponse({ type: StreamInfo })
  create(@Body() req: CreateStreamRequest, @RequestKey() key?: string): Promise<StreamInfo> {
    return this.streams.create(req, key);
  }

  @Get(':streamId')
  @ApiOperation({ summary: 'One stream' })
  @ApiOkResponse({ type: StreamInfo })
  get(@Param() ref: StreamRef): Promise<StreamInfo> {
    return this.streams.info(ref);
  }

  @Post(':streamId/announce')
  @HttpCode(200)
  @NodeMayCall({ actingFor: { body: 'nodeId' } })
  @ApiOperation({ summary: 'The source announces the stream live, or updates its measured bit rate' })
  @ApiOkResponse({ type: StreamInfo })
  announce(@Param() ref: StreamRef, @Body() body: AnnounceBody): Promise<StreamInfo> {
    return this.streams.announce({ streamId: ref.streamId, ...body });
  }

  @Post(':streamId/end')
  @HttpCode(200)
  @NodeMayCall({ actingFor: 'service' })
  @ApiOperation({ summary: 'End a stream (idempotent); a node may end only the streams it is the source of' })
  @ApiOkResponse({ type: StreamInfo })
  end(@Param() ref: StreamRef, @CurrentActor() actor: Actor): Promise<StreamInfo> {
    return this.streams.end(ref, actor);
  }

  @Get(':streamId/carriers')
  @ApiOperation({ summary: 'Nodes carrying the stream, nearest the source first' })
  @ApiOkResponse({ type: [CarrierInfo] })
  carriers(@Param() ref: StreamRef, @Query() query: ListCarriersQuery): Promise<CarrierInfo[]> {
    return this.streams.listCarriers(ref, query.limit ?? MAX_PAGE_SIZE);
  }
}
