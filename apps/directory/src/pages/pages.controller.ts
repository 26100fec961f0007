import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ListStreamsRequest, StreamRef } from '@astral/contracts';
import { NodesService } from '../nodes/nodes.service';
import { StreamsService } from '../streams/streams.service';
import { playUrls, renderNodesPage, renderStreamPage, renderStreamsPage } from './html';

/** Server-rendered HTML pages; no scripts, no external assets. */
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
}
