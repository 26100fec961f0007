import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AgentPatterns,
  TicketCancel,
  TicketConfirm,
  TicketConfirmReply,
  TicketEnded,
  TicketHeartbeat,
  TicketHeartbeatReply,
  TicketReply,
  TicketRequest,
} from '@astral/contracts';
import { OnEvent, OnRequest } from '@astral/transport';
import { TicketsService } from './tickets.service';
import { WatchService } from '../streams/watch.service';

/** Ticket negotiation with other nodes, on this node's own Redis channels. */
@Controller()
export class TicketsController {
  constructor(
    private readonly tickets: TicketsService,
    private readonly watching: WatchService,
  ) {}

  @OnRequest(AgentPatterns.TicketRequest)
  request(@Payload() req: TicketRequest): Promise<TicketReply> {
    return this.tickets.request(req);
  }

  @OnRequest(AgentPatterns.TicketConfirm)
  confirm(@Payload() req: TicketConfirm): Promise<TicketConfirmReply> {
    return this.tickets.confirm(req);
  }

  @OnEvent(AgentPatterns.TicketCancel)
  cancel(@Payload() req: TicketCancel): void {
    return this.tickets.cancel(req);
  }

  @OnRequest(AgentPatterns.TicketHeartbeat)
  heartbeat(@Payload() req: TicketHeartbeat): Promise<TicketHeartbeatReply> {
    return this.tickets.heartbeat(req);
  }

  /** Our upstream ended the ticket we hold: re-parent now. */
  @OnEvent(AgentPatterns.TicketEnded)
  ended(@Payload() msg: TicketEnded): void {
    this.watching.ticketEnded(msg);
  }
}
