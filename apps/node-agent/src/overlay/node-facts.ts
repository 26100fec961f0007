import { Inject, Injectable } from '@nestjs/common';
import { NodeConfig } from '@astral/config';
import { ServedCommitment } from '@astral/overlay';
import { AGENT_CONFIG } from '../agent.tokens';

/**
 * What this node's services know of themselves and others read: its place in the membership (written by
 * the membership service), its upload limit and the tickets it serves (written by the ticket service).
 * The owner writes a fact when it changes; readers (the directory and relay links, the other machines'
 * drivers) read the latest. No service sets a closure on another.
 */
@Injectable()
export class NodeFacts {
  role: 'joining' | 'member' | 'supernode' = 'joining';
  /** The supernode this node is a member of (null when joining or itself a supernode). */
  supernodeId: string | null = null;
  /** Members, while this node is a supernode. */
  childCount: number | undefined = undefined;
  /** Bits per second; null is unlimited. */
  uploadLimitBps: number | null;
  /** Offered and confirmed tickets this node serves. */
  served: readonly ServedCommitment[] = [];

  constructor(@Inject(AGENT_CONFIG) config: NodeConfig) {
    this.uploadLimitBps = config.uploadLimitBps ?? null;
  }

  /** Confirmed forward tickets. */
  get forwards(): number {
    let n = 0;
    for (const t of this.served) if (t.confirmed) n++;
    return n;
  }
}
