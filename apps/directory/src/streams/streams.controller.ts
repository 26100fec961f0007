import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AnnounceStream,
  CarrierInfo,
  CarryingStream,
  CreateStreamRequest,
  DirectoryPatterns,
  ListStreamsRequest,
  StreamInfo,
  StreamPage,
  StreamRef,
  EndStreamRequest,
} from '@astral/contracts';
import { OnEvent, OnRequest } from '@astral/transport';
import { nodeActor } from '../auth/actor';
import { RequestKey } from '../transport/request-key';
import { StreamsService } from './streams.service';

/** Stream patterns over Redis. Errors become AstralErrorBody replies in AstralExceptionFilter. */
@Controller()
export class StreamsController {
  constructor(private readonly streams: StreamsService) {}

  @OnRequest(DirectoryPatterns.CreateStream)
  create(@Payload() req: CreateStreamRequest, @RequestKey() key?: string): Promise<StreamInfo> {
    return this.streams.create(req, key);
  }

  @OnRequest(DirectoryPatterns.AnnounceStream)
  announce(@Payload() req: AnnounceStream): Promise<StreamInfo> {
    return this.streams.announce(req);
  }

  @OnRequest(DirectoryPatterns.EndStream)
  end(@Payload() req: EndStreamRequest): Promise<StreamInfo> {
    return this.streams.end(req, nodeActor(req.nodeId));
  }

  @OnRequest(DirectoryPatterns.GetStream)
  get(@Payload() ref: StreamRef): Promise<StreamInfo> {
    return this.streams.info(ref);
  }

  @OnRequest(DirectoryPatterns.ListStreams)
  list(@Payload() req: ListStreamsRequest): Promise<StreamPage> {
    return this.streams.list(req);
  }

  @OnRequest(DirectoryPatterns.ListCarriers)
  carriers(@Payload() ref: StreamRef): Promise<CarrierInfo[]> {
    return this.streams.upstreamCarriers(ref);
  }

  @OnEvent(DirectoryPatterns.Carrying)
  carrying(@Payload() msg: CarryingStream): Promise<void> {
    return this.streams.carrying(msg);
  }
}
