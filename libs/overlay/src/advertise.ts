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

/**
 * Admission of a ticket request that keeps a forwarder's last `reservedSlots` free slots for a requester that can itself
 * forward, so the top of the tree does not fill with leaves (an upload limit of 0 never forwards). A
 * requester that cannot forward takes a last slot only once it is `patient` (it has waited past its
 * first watch deadline), so no slot stays idle for ever.
 */
export function admitsRequester(
  uploadLimitBps: number | null,
  committedBps: number,
  bitrateBps: number,
  requesterCanForward: boolean,
  patient: boolean,
  reservedSlots = 2,
): boolean {
  if (!admitsForward(uploadLimitBps, committedBps, bitrateBps)) return false;
  if (requesterCanForward || patient) return true;
  // Room for this forward and, after it, for `reservedSlots` more.
  return admitsForward(uploadLimitBps, committedBps + reservedSlots * bitrateBps, bitrateBps);
}

/**
 * Why a ticket request is refused, or null to offer (issue 14: one budget). `committedBps` is everything the
 * node's upload has promised: forward tickets and the remote players its relay admitted. A limited node
 * offers nothing for a stream it has not measured yet.
 */
export function ticketOfferRefusal(
  uploadLimitBps: number | null,
  committedBps: number,
  bitrateBps: number,
  requesterCanForward: boolean,
  patient: boolean,
): string | null {
  if (uploadLimitBps !== null && bitrateBps <= 0) return 'bit rate not measured yet';
  if (!admitsForward(uploadLimitBps, committedBps, bitrateBps)) return 'no upload headroom';
  // The last free slots go to requesters that can forward in turn, so the top of the tree does not fill
  // with leaves; a requester that cannot forward gets them once it has waited.
  if (!admitsRequester(uploadLimitBps, committedBps, bitrateBps, requesterCanForward, patient))
    return 'last slots kept for nodes that can forward';
  return null;
}
