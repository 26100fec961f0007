import { CarriedStream } from '@astral/contracts';

/** What the failover decisions look at: the stream as this node carries it, if at all, and the node's state. */
export interface FailoverState {
  carried: Pick<CarriedStream, 'origin'> | undefined;
  /** The node is leaving: it gets no new tickets. */
  leaving: boolean;
}

/**
 * Whether a lost upstream starts a failover now: only for a stream pulled from an upstream, not while
 * the node leaves, and not while a failover for the same stream is already running.
 */
export function shouldStartFailover(state: FailoverState & { inProgress: boolean }): boolean {
  return state.carried?.origin === 'upstream' && !state.leaving && !state.inProgress;
}

/** Whether a failed failover tries again: while the node still wants the stream from an upstream. */
export function shouldRetryFailover(state: FailoverState): boolean {
  return !state.leaving && state.carried?.origin === 'upstream';
}

/** The pause before a failed failover tries again. */
export const FAILOVER_RETRY_MS = 1000;
