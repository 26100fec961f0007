import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AdmitForward,
  AuthorizePublish,
  CloseUpstream,
  OpenUpstream,
  RelayPatterns,
  RelayStats,
  RevokeForward,
  SetDirectoryLink,
  SetPlayerBudget,
  SetUploadLimit,
} from '@astral/contracts';
import { OnRequest } from '@astral/transport';
import { RelayService } from '../relay.service';

/** What the node's agent tells its relay over Redis. Only this node's relay receives these. */
@Controller()
export class RelayControlController {
  constructor(private readonly relay: RelayService) {}

  @OnRequest(RelayPatterns.AuthorizePublish)
  authorize(@Payload() msg: AuthorizePublish): { ok: true } {
    this.relay.authorizePublish(msg.streamId, msg.keyHash);
    return { ok: true };
  }

  @OnRequest(RelayPatterns.AdmitForward)
  admit(@Payload() msg: AdmitForward): { ok: true } {
    this.relay.admitForward(msg);
    return { ok: true };
  }

  @OnRequest(RelayPatterns.RevokeForward)
  revoke(@Payload() msg: RevokeForward): { closed: boolean } {
    return { closed: this.relay.revokeForward(msg.ticketId, msg.reason) };
  }

  @OnRequest(RelayPatterns.OpenUpstream)
  open(@Payload() msg: OpenUpstream): { ok: true } {
    this.relay.openUpstream(msg);
    return { ok: true };
  }

  @OnRequest(RelayPatterns.CloseUpstream)
  close(@Payload() msg: CloseUpstream): { closed: boolean } {
    return { closed: this.relay.closeUpstream(msg.streamId, msg.role) };
  }

  @OnRequest(RelayPatterns.SetUploadLimit)
  setLimit(@Payload() msg: SetUploadLimit): { ok: true } {
    this.relay.setUploadLimit(msg.uploadLimitBps ?? null);
    return { ok: true };
  }

  @OnRequest(RelayPatterns.SetPlayerBudget)
  setPlayerBudget(@Payload() msg: SetPlayerBudget): { ok: true } {
    this.relay.setPlayerBudget(msg.forwardCommittedBps);
    return { ok: true };
  }

  @OnRequest(RelayPatterns.SetDirectoryLink)
  setDirectoryLink(@Payload() msg: SetDirectoryLink): { ok: true } {
    this.relay.setDirectoryLink(msg);
    return { ok: true };
  }

  @OnRequest(RelayPatterns.GetStats)
  stats(): RelayStats {
    return this.relay.stats();
  }
}
