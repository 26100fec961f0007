import { Controller, Get, Param, Query } from '@nestjs/common';
import { CarrierInfo, ListStreamsRequest, StreamInfo, StreamPage, StreamRef } from '@astral/contracts';
import { StreamsService } from './streams.service';

@Controller('api/streams')
export class StreamsHttpController {
  constructor(private readonly streams: StreamsService) {}

  @Get()
  list(@Query() req: ListStreamsRequest): Promise<StreamPage> {
    return this.streams.list(req);
  }

  @Get(':streamId')
  get(@Param() ref: StreamRef): Promise<StreamInfo> {
    return this.streams.info(ref);
  }

  @Get(':streamId/carriers')
  carriers(@Param() ref: StreamRef): Promise<CarrierInfo[]> {
    return this.streams.listCarriers(ref);
  }
}
