import { ApiTags } from '@nestjs/swagger';
import { Controller, Delete, Get, Param } from '@nestjs/common';
import { AstralError, RevokeTicketReply, TicketsReply } from '@astral/contracts';
import { TicketsService } from './tickets.service';
import { CarriedStreams } from '../streams/carried-streams';

/** Tickets this node gave (outgoing forwards) and holds (incoming streams). */
@ApiTags('tickets')
@Controller('api/tickets')
export class TicketsHttpController {
  constructor(
    private readonly tickets: TicketsService,
    private readonly carried: CarriedStreams,
  ) {}

  @Get()
  list(): TicketsReply {
    return {
      outgoing: this.tickets.list(),
      incoming: this.carried
        .all()
        .filter((c) => c.origin === 'upstream')
        .map((c) => ({
          ticketId: c.ticketId,
          streamId: c.streamId,
          upstreamNodeId: c.upstreamNodeId,
          hops: c.hops,
        })),
    };
  }

  @Delete(':ticketId')
  async revoke(@Param('ticketId') ticketId: string): Promise<RevokeTicketReply> {
    if (!(await this.tickets.end(ticketId, 'revoked by the node owner'))) {
      throw new AstralError('not-found', `no outgoing ticket ${ticketId}`);
    }
    return { revoked: true };
  }
}
