import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DirectoryPatterns, OkReply, StreamPreview, StreamRef } from '@astral/contracts';
import { OnRequest } from '@astral/transport';
import { PreviewsService } from './previews.service';

/**
 * Previews over Redis: a source node sends its stream's latest frame. A request, so the sender learns of a
 * refusal; every replica receives it (pub/sub), keeps the image and answers, and the sender takes the first answer.
 */
@Controller()
export class PreviewsBusController {
  constructor(private readonly previews: PreviewsService) {}

  @OnRequest(DirectoryPatterns.SetPreview)
  set(@Payload() req: StreamPreview): Promise<OkReply> {
    return this.previews.set(req);
  }
}

/** GET /streams/:streamId/preview.jpg: the latest preview of a live stream, for the pages. */
@ApiTags('streams')
@Controller('streams')
export class PreviewsHttpController {
  constructor(private readonly previews: PreviewsService) {}

  @Get(':streamId/preview.jpg')
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({
    summary: "A live stream's latest preview image (JPEG, refreshed every few seconds by its source)",
  })
  @ApiProduces('image/jpeg')
  @ApiOkResponse({ description: 'The JPEG; 404 when the directory holds none (not live, or no frame yet)' })
  async get(@Param() ref: StreamRef, @Res() res: Response): Promise<void> {
    const preview = await this.previews.latest(ref.streamId);
    if (!preview)
      throw new NotFoundException(
        `no preview of ${ref.streamId}: the stream is not live, or its source has not sent a frame yet; try again in a few seconds`,
      );
    res.setHeader('Content-Type', 'image/jpeg');
    res.setHeader('Last-Modified', new Date(preview.at).toUTCString());
    res.end(preview.jpeg);
  }
}
