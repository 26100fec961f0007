import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ListStreamsRequest, StreamRef } from '@astral/contracts';
import { NodesService } from '../nodes/nodes.service';
import { StreamsService } from '../streams/streams.service';
import { playUrls, renderNodesPage, renderStreamPage, renderStreamsPage } from './html';
import { pageAsset } from './page-assets';

/** Server-rendered HTML pages, and the stream page's two scripts: mpegts.js and the player (no inline script). */
@ApiExcludeController()
@Controller()
export class PagesController {
  constructor(
    private readonly streams: StreamsService,
    private readonly nodes: NodesService,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  async streamsPage(@Query() req: ListStreamsRequest): Promise<string> {
    return renderStreamsPage(await this.streams.list(req), req.q ?? '');
  }

  @Get('streams/:streamId')
  @Header('Content-Type', 'text/html; charset=utf-8')
  async streamPage(@Param() ref: StreamRef): Promise<string> {
    const stream = await this.streams.info(ref);
    const carriers = await this.streams.carrierNodes(ref);
    return renderStreamPage(
      stream,
      carriers.map(({ carrier, node }) => ({
        nodeId: node.nodeId,
        hops: carrier.hops,
        ...playUrls(stream.streamId, node),
      })),
    );
  }

  @Get('nodes')
  @Header('Content-Type', 'text/html; charset=utf-8')
  async nodesPage(): Promise<string> {
    return renderNodesPage(await this.nodes.list());
  }

  /** mpegts.js from node_modules (no CDN): the stream page's FLV player. */
  @Get('assets/mpegts.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  mpegts(): string {
    return pageAsset('mpegts.js');
  }

  /** The stream page's player (assets/stream-player.js); it reads the page's <script type="application/json">. */
  @Get('assets/stream-player.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  streamPlayer(): string {
    return pageAsset('stream-player.js');
  }
}
