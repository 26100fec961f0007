import { Controller, Get, Header, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  AstralErrorBody,
  PlacementQuery,
  PlacementReply,
  PlayCandidate,
  PlayHlsQuery,
  StreamRef,
} from '@astral/contracts';
import { PlacementRefused, PlacementService } from './placement.service';

/** How long a viewer refused for lack of room should wait before asking again (Retry-After, seconds). */
const RETRY_AFTER_S = 2;

/**
 * Where a viewer should play (docs/DIRECTORY.md, "Placement"). Its routes are reads, under the per-address read
 * limit (auth/rate-limits.ts), which is separate from the write budget heartbeats use. A refusal for lack of room
 * is answered here (503 with the reason and Retry-After) and logged at info by the service, not as a failure.
 */
@ApiTags('placement')
@Controller()
export class PlacementController {
  constructor(private readonly placement: PlacementService) {}

  @Get('api/streams/:streamId/play')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Where should this viewer play? Carriers with room, best first, each with a signed play token',
  })
  @ApiOkResponse({ type: PlacementReply })
  @ApiResponse({ status: 404, description: 'unknown stream' })
  @ApiResponse({ status: 409, description: 'the stream is not live' })
  @ApiResponse({ status: 503, description: 'no node that carries the stream has room; the body says why' })
  async play(
    @Param() ref: StreamRef,
    @Query() query: PlacementQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PlacementReply | AstralErrorBody> {
    const placed = await this.placement.place(ref.streamId, query);
    if (placed instanceof PlacementRefused) return refuse(res, placed);
    return placed;
  }

  /** For plain players (ffplay, VLC): a redirect to the first candidate's HTTP-FLV URL, token included. */
  @Get('streams/:streamId/play.flv')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Play the stream: 302 to the HTTP-FLV URL of the node placed for this viewer' })
  @ApiResponse({ status: 302, description: 'Location: the first candidate of GET /api/streams/:id/play' })
  @ApiResponse({ status: 404, description: 'unknown stream' })
  @ApiResponse({ status: 409, description: 'the stream is not live' })
  @ApiResponse({ status: 503, description: 'no node that carries the stream has room' })
  async playFlv(
    @Param() ref: StreamRef,
    @Query() query: PlacementQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AstralErrorBody | undefined> {
    return this.redirectPlaced(ref.streamId, query, res, (c) => c.flvUrl);
  }

  /**
   * For HLS players (Safari, VLC, TVs, and a full relay sending its HLS players on, `?exclude=<itself>`): a
   * redirect to the first candidate's playlist, token included; `?ll=1` for Low-Latency HLS. The playlist names
   * its segments by relative URIs, so the player fetches them from that node with no directory in the way.
   */
  @Get('streams/:streamId/play.m3u8')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary:
      'Play the stream: 302 to the HLS (or with ll=1 the LL-HLS) playlist of the node placed for this viewer',
  })
  @ApiResponse({
    status: 302,
    description: 'Location: hlsUrl (llHlsUrl) of the first candidate of GET /api/streams/:id/play',
  })
  @ApiResponse({ status: 400, description: 'a bad query: ll other than 0 or 1, a bad exclude or limit' })
  @ApiResponse({ status: 404, description: 'unknown stream' })
  @ApiResponse({ status: 409, description: 'the stream is not live' })
  @ApiResponse({ status: 503, description: 'no node that carries the stream has room' })
  async playHls(
    @Param() ref: StreamRef,
    @Query() query: PlayHlsQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AstralErrorBody | undefined> {
    return this.redirectPlaced(ref.streamId, query, res, (c) => (query.ll === '1' ? c.llHlsUrl : c.hlsUrl));
  }

  /** The 302 forms: a placement, then its first candidate's URL (`urlOf`), or the refusal. */
  private async redirectPlaced(
    streamId: string,
    query: PlacementQuery,
    res: Response,
    urlOf: (first: PlayCandidate) => string,
  ): Promise<AstralErrorBody | undefined> {
    const placed = await this.placement.place(streamId, query);
    if (placed instanceof PlacementRefused) return refuse(res, placed);
    res.redirect(302, urlOf(placed.candidates[0]));
    return undefined;
  }
}

function refuse(res: Response, refused: PlacementRefused): AstralErrorBody {
  res.status(503).setHeader('Retry-After', String(RETRY_AFTER_S));
  return { status: 503, error: 'unavailable', message: refused.message };
}
