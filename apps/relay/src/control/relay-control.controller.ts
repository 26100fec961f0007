import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AdmitForward,
  AuthorizePublish,
  CloseUpstream,
  OpenUpstream,
  RelayPatterns,
  RelayStats,
  RevokeForward,
  SetUploadLimit,
} from '@astral/contracts';
import { RelayService } from '../relay.service';
import { RelayControlErrorFilter } from './control-error.filter';

/** What the node's agent tells its relay over Redis. Only this node's relay receives these. */
@Controller()
@UseFilters(new RelayControlErrorFilter())
export class RelayControlController {
  constructor(private readonly relay: RelayService) {}

  @MessagePattern(RelayPatterns.AuthorizePublish)
  authorize(@Payload() msg: AuthorizePublish): { ok: true } {
    this.relay.authorizePublish(msg.streamId, msg.keyHash);
    return { ok: true };
  }

  @MessagePattern(RelayPatterns.AdmitForward)
  admit(@Payload() msg: AdmitForward): { ok: true } {
    this.relay.admitForward(msg);
    return { ok: true };
  }

  @MessagePattern(RelayPatterns.RevokeForward)
  revoke(@Payload() msg: RevokeForward): { closed: boolean } {
    return { closed: this.relay.revokeForward(msg.ticketId, msg.reason) };
  }

  @MessagePattern(RelayPatterns.OpenUpstream)
  open(@Payload() msg: OpenUpstream): { ok: true } {
    this.relay.openUpstream(msg);
    return { ok: true };
  }

  @MessagePattern(RelayPatterns.CloseUpstream)
  close(@Payload() msg: CloseUpstream): { closed: boolean } {
    return { closed: this.relay.closeUpstream(msg.streamId) };
  }

  @MessagePattern(RelayPatterns.SetUploadLimit)
  setLimit(@Payload() msg: SetUploadLimit): { ok: true } {
    this.relay.setUploadLimit(msg.uploadLimitBps ?? null);
    return { ok: true };
  }

  @MessagePattern(RelayPatterns.GetStats)
  stats(): RelayStats {
    return this.relay.stats();
  }

}
