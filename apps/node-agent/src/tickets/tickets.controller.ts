import { Controller, UseFilters, UsePipes } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  AgentPatterns,
  AstralRpcErrorFilter,
  rpcValidationPipe,
  TicketCancel,
  TicketConfirm,
  TicketConfirmReply,
  TicketEnded,
  TicketHeartbeat,
  TicketHeartbeatReply,
  TicketReply,
  TicketRequest,
} from '@astral/contracts';
import { TicketsService } from './tickets.service';
import { StreamsService } from '../streams/streams.service';

/** Ticket negotiation with other nodes, on this node's own Redis channels. */
@Controller()
@UseFilters(AstralRpcErrorFilter)
@UsePipes(rpcValidationPipe())
export class TicketsController {
  constructor(
    private readonly tickets: TicketsService,
    private readonly streams: StreamsService,
  ) {}

  @MessagePattern(AgentPatterns.TicketRequest)
  request(@Payload() req: TicketRequest): Promise<TicketReply> {
    return this.tickets.request(req);
  }

  @MessagePattern(AgentPatterns.TicketConfirm)
  confirm(@Payload() req: TicketConfirm): Promise<TicketConfirmReply> {
    return this.tickets.confirm(req);
  }

  @EventPattern(AgentPatterns.TicketCancel)
  cancel(@Payload() req: TicketCancel): Promise<void> {
    return this.tickets.cancel(req);
  }

  @MessagePattern(AgentPatterns.TicketHeartbeat)
  heartbeat(@Payload() req: TicketHeartbeat): TicketHeartbeatReply {
    return this.tickets.heartbeat(req);
  }

  /** Our upstream ended the ticket we hold: re-parent now. */
  @EventPattern(AgentPatterns.TicketEnded)
  ended(@Payload() msg: TicketEnded): Promise<void> {
    return this.streams.ticketEnded(msg);
  }
}
