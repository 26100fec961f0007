import { Controller, UseFilters, UsePipes } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  AgentPatterns,
  AstralRpcErrorFilter,
  CarrierInfo,
  MembershipHeartbeat,
  MembershipHeartbeatReply,
  MembershipJoin,
  MembershipJoinReply,
  MembershipLeave,
  MembershipRehome,
  SupernodeCarriersRequest,
  rpcValidationPipe,
} from '@astral/contracts';
import { MembershipService } from './membership.service';

/** Supernode membership messages between nodes, on this node's own channels. */
@Controller()
@UseFilters(AstralRpcErrorFilter)
@UsePipes(rpcValidationPipe())
export class MembershipController {
  constructor(private readonly membership: MembershipService) {}

  @MessagePattern(AgentPatterns.MembershipJoin)
  join(@Payload() req: MembershipJoin): MembershipJoinReply {
    return this.membership.handleJoin(req);
  }

  @MessagePattern(AgentPatterns.MembershipHeartbeat)
  heartbeat(@Payload() req: MembershipHeartbeat): MembershipHeartbeatReply {
    return this.membership.handleHeartbeat(req);
  }

  @EventPattern(AgentPatterns.MembershipLeave)
  leave(@Payload() msg: MembershipLeave): void {
    this.membership.handleLeave(msg);
  }

  @EventPattern(AgentPatterns.MembershipRehome)
  rehome(@Payload() msg: MembershipRehome): void {
    this.membership.handleRehome(msg);
  }

  @MessagePattern(AgentPatterns.SupernodeCarriers)
  carriers(@Payload() req: SupernodeCarriersRequest): CarrierInfo[] {
    return this.membership.carriers(req.streamId);
  }
}
