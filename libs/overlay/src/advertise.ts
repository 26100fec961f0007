import { admitsForward } from './headroom';
import { MemberCarrying } from './membership';

/**
 * What a member tells its supernode it carries, for the supernode's carrier index: only the streams it
 * could forward one more copy of now (a node with no upload headroom, or an upload limit of 0, is not
 * listed, so viewers do not spend their few ticket requests on nodes that must refuse).
 */
export function advertisedCarrying(
  carried: { streamId: string; hops: number }[],
  uploadLimitBps: number | null,
  committedBps: number,
  bitrateOf: (streamId: string) => number,
): MemberCarrying[] {
  return carried
    .filter((c) => admitsForward(uploadLimitBps, committedBps, bitrateOf(c.streamId)))
    .map((c) => ({ streamId: c.streamId, hops: c.hops }));
}

/**
 * The candidates to ask on attempt `attempt` (from 0): a window of `size` that moves along the order on
 * each retry, wrapping around, so a retry asks nodes it has not asked yet instead of the same refusers.
 */
export function candidateWindow<T>(order: T[], attempt: number, size = 8): T[] {
  if (order.length <= size) return [...order];
  const start = (attempt * size) % order.length;
  const out = order.slice(start, start + size);
  if (out.length < size) out.push(...order.slice(0, size - out.length));
  return out;
}
