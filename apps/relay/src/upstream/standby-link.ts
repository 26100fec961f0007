import { StandbySplice, StandbySpliceLimits } from '@astral/media';
import { Pull } from './upstream-pull';

export type StandbyMode = 'receiving' | 'idle';

/** What a stream's stats show of its standby (RelayStreamStats.standby). */
export interface StandbyState {
  upstreamNodeId: string;
  mode: StandbyMode;
  connected: boolean;
  aligned: boolean;
  bytesIn: number;
}

/**
 * The warm standby of one relayed stream (docs/RELAY.md "Standby"): a second confirmed ticket on a
 * disjoint path. `receiving`: pulled now and buffered at the live edge by its splice; `idle`: the ticket is
 * held and the pull opened only when the primary is lost (its GOP replay is then aligned against what was
 * delivered).
 */
export class StandbyLink {
  pull: Pull | null = null;
  readonly splice: StandbySplice;
  private bytesBefore = 0;

  constructor(
    readonly url: string,
    readonly upstreamNodeId: string,
    readonly ticketId: string,
    readonly mode: StandbyMode,
    private readonly open: (link: StandbyLink) => Pull,
    limits: Partial<StandbySpliceLimits> = {},
  ) {
    this.splice = new StandbySplice(limits);
    if (mode === 'receiving') this.pull = open(this);
  }

  /** Opens the pull if it is not open (an idle standby, on the primary's loss). */
  ensureOpen(): Pull {
    this.pull ??= this.open(this);
    return this.pull;
  }

  get bytesIn(): number {
    return this.bytesBefore + (this.pull?.bytesIn ?? 0);
  }

  state(): StandbyState {
    return {
      upstreamNodeId: this.upstreamNodeId,
      mode: this.mode,
      connected: this.pull !== null,
      aligned: this.splice.offsetMs !== null,
      bytesIn: this.bytesIn,
    };
  }

  close(): void {
    this.bytesBefore = this.bytesIn;
    this.pull?.close();
    this.pull = null;
  }
}
