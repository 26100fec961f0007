import { DirectoryPatterns } from '@astral/contracts';
import { CommonInput, Effect, InboundId, PendingCalls, answer, requestEffect } from './effects';
import type { MembershipCall } from './membership-join';
import type { MembershipConfig } from './membership-types';

/**
 * What the directory knows of this node's supernode role. A promotion is never held up by the directory:
 * the node acts as a supernode at once, and tells the directory until it has recorded it (one request at
 * a time: again on each expiry tick and when the directory accepts the node's registration).
 */
export class DirectoryRecord {
  recorded = false;
  private promoting = false;
  /** A capacity that changed while a promotion was in flight: sent once that one is answered. */
  private again: number | null = null;

  constructor(
    private readonly config: MembershipConfig,
    private readonly calls: PendingCalls<MembershipCall>,
  ) {}

  private get timeoutMs(): number {
    return this.config.directoryTimeoutMs ?? 3000;
  }

  /** `directory.supernodes.promote` with this capacity (also how a new capacity is told). */
  promote(maxChildren: number): Effect[] {
    if (this.promoting) {
      this.again = maxChildren;
      return [];
    }
    this.promoting = true;
    const call = this.calls.open({ what: 'promote' });
    return [
      requestEffect(
        call,
        DirectoryPatterns.PromoteSupernode,
        null,
        { nodeId: this.config.nodeId, maxChildren },
        this.timeoutMs,
      ),
    ];
  }

  /** `directory.supernodes.demote`; `inbound` is answered when the directory has answered (or failed). */
  demote(inbound: InboundId | null): Effect[] {
    this.recorded = false;
    const call = this.calls.open({ what: 'demote', inbound });
    return [
      requestEffect(
        call,
        DirectoryPatterns.DemoteSupernode,
        null,
        { nodeId: this.config.nodeId },
        this.timeoutMs,
      ),
    ];
  }

  onPromoted(input: CommonInput, stillSupernode: boolean): Effect[] {
    this.promoting = false;
    const again = this.again;
    this.again = null;
    if (stillSupernode && again !== null) return this.promote(again);
    if (input.type === 'reply') {
      this.recorded = stillSupernode;
      return [];
    }
    if (!stillSupernode) return [];
    return [
      {
        kind: 'log',
        level: 'warn',
        msg: 'directory did not record the promotion; acting as a supernode anyway',
        fields: { err: input.type === 'failed' ? input.message : undefined },
      },
    ];
  }

  onDemoted(inbound: InboundId | null): Effect[] {
    return inbound === null ? [] : [answer(inbound, undefined)];
  }
}
