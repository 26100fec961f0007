import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AgentPatterns,
  CarrierInfo,
  MembershipHeartbeat,
  MembershipHeartbeatReply,
  MembershipJoin,
  MembershipJoinReply,
  MembershipLeave,
  MembershipRehome,
  SupernodeCarriersRequest,
} from '@astral/contracts';
import { OnEvent, OnRequest } from '@astral/transport';
import { MembershipService } from './membership.service';

/** Supernode membership messages between nodes, on this node's own channels. */
@Controller()
export class MembershipController {
  constructor(private readonly membership: MembershipService) {}

  @OnRequest(AgentPatterns.MembershipJoin)
  join(@Payload() req: MembershipJoin): Promise<MembershipJoinReply> {
    return this.membership.handleJoin(req);
  }

  @OnRequest(AgentPatterns.MembershipHeartbeat)
  heartbeat(@Payload() req: MembershipHeartbeat): Promise<MembershipHeartbeatReply> {
    return this.membership.handleHeartbeat(req);
  }

  @OnEvent(AgentPatterns.MembershipLeave)
  leave(@Payload() msg: MembershipLeave): void {
    this.membership.handleLeave(msg);
  }

  @OnEvent(AgentPatterns.MembershipRehome)
  rehome(@Payload() msg: MembershipRehome): void {
    this.membership.handleRehome(msg);
  }

  @OnRequest(AgentPatterns.SupernodeCarriers)
  carriers(@Payload() req: SupernodeCarriersRequest): Promise<CarrierInfo[]> {
    return this.membership.carriers(req.streamId);
  }
}
