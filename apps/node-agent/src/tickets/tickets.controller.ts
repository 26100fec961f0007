import { Controller, UseFilters, UsePipes } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  AgentPatterns,
  AstralRpcErrorFilter,
  rpcValidationPipe,
  TicketCancel,
  TicketConfirm,
  TicketConfirmReply,
  TicketReply,
  TicketRequest,
} from '@astral/contracts';
import { TicketsService } from './tickets.service';

/** Ticket negotiation with other nodes, on this node's own Redis channels. */
@Controller()
@UseFilters(AstralRpcErrorFilter)
@UsePipes(rpcValidationPipe())
export class TicketsController {
  constructor(private readonly tickets: TicketsService) {}

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
}
