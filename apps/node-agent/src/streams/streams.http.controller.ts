import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  AstralError,
  ListedStream,
  PublishReply,
  PublishStreamRequest,
  StopWatchReply,
  WatchReply,
} from '@astral/contracts';
import { PublishService } from './publish.service';
import { WatchService } from './watch.service';

/** The node's local API for streams: publish, watch, stop. */
@ApiTags('streams')
@Controller('api/streams')
export class StreamsHttpController {
  constructor(
    private readonly publishing: PublishService,
    private readonly watching: WatchService,
  ) {}

  @Get()
  list(): ListedStream[] {
    return this.watching.list();
  }

  /** Creates a stream sourced here; the reply holds its secret key. */
  @Post()
  @HttpCode(201)
  publish(@Body() body: PublishStreamRequest): Promise<PublishReply> {
    return this.publishing.publish(body.title, body.description);
  }

  @Post(':streamId/watch')
  @HttpCode(200)
  watch(@Param('streamId') streamId: string): Promise<WatchReply> {
    return this.watching.watch(streamId);
  }

  /** Volunteers to carry the stream without a local player, to forward it to others. */
  @Post(':streamId/seed')
  @HttpCode(200)
  seed(@Param('streamId') streamId: string): Promise<WatchReply> {
    return this.watching.watch(streamId, true);
  }

  @Delete(':streamId/watch')
  async stop(@Param('streamId') streamId: string): Promise<StopWatchReply> {
    if (!(await this.watching.stopWatching(streamId))) {
      throw new AstralError('not-found', `this node is not watching ${streamId}`);
    }
    return { stopped: true };
  }
}
