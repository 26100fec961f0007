import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { NetworkSnapshot } from '@astral/contracts';
import { NetworkService } from './network.service';

@ApiTags('network')
@Controller('api/network')
export class NetworkHttpController {
  constructor(private readonly network: NetworkService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary:
      'The network now: nodes, live streams, membership and forward edges (at most 2000 nodes, 500 streams, 10000 edges)',
  })
  @ApiOkResponse({ type: NetworkSnapshot })
  snapshot(): Promise<NetworkSnapshot> {
    return this.network.snapshot();
  }
}
