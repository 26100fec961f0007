import { Controller, Get, Header, Param, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { NodeConfig, urlHost } from '@astral/config';
import { AstralError, ListStreamsRequest, StreamRef } from '@astral/contracts';
import { NodesService } from '../nodes/nodes.service';
import { StreamsService } from '../streams/streams.service';
import { renderNodesPage } from './nodes-page';
import { PAGE_CSP, isPageAsset, pageAsset, pageAssetType } from './page-assets';
import { nodePlayUrls } from '../placement/play-urls';
import { renderStreamPage } from './stream-page';
import { renderStreamsPage } from './streams-page';

/** Where a viewer's own node answers by default: its agent's API on loopback, at the default API port. */
const OWN_NODE_API = `http://${urlHost('127.0.0.1')}:${new NodeConfig().apiPort}`;

/** Server-rendered HTML pages and their assets (scripts and one stylesheet; no inline code, see PAGE_CSP). */
@ApiExcludeController()
@Controller()
export class PagesController {
  constructor(
    private readonly streams: StreamsService,
    private readonly nodes: NodesService,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', PAGE_CSP)
  async streamsPage(@Query() req: ListStreamsRequest): Promise<string> {
    const page = await this.streams.list(req);
    return renderStreamsPage(page, req.q ?? '');
  }

  @Get('streams/:streamId')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', PAGE_CSP)
  async streamPage(@Param() ref: StreamRef): Promise<string> {
    const stream = await this.streams.info(ref);
    const carriers = await this.streams.carrierNodes(ref);
    return renderStreamPage(
      stream,
      carriers.map(({ carrier, node }) => {
        const { rtmp, flv, hls, llHls } = nodePlayUrls(stream.streamId, node);
        return { nodeId: node.nodeId, hops: carrier.hops, rtmp, flv, hls, llHls };
      }),
      OWN_NODE_API,
    );
  }

  @Get('nodes')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', PAGE_CSP)
  async nodesPage(): Promise<string> {
    return renderNodesPage(await this.nodes.list());
  }

  /** The pages' assets: mpegts.js and hls.js from node_modules (no CDN), and the pages' own scripts and stylesheet. */
  @Get('assets/:name')
  asset(@Param('name') name: string, @Res({ passthrough: true }) res: Response): string {
    if (!isPageAsset(name)) throw new AstralError('not-found', `no page asset ${name.slice(0, 100)}`);
    res.setHeader('Content-Type', pageAssetType(name));
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    return pageAsset(name);
  }
}
