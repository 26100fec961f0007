/**
 * Admission of one more forward of a stream at `bitrateBps`, given the bit rate already committed to
 * other forwards: committed + bitrate must fit in the upload limit. A null limit is unlimited; a limit of
 * 0 never admits. Bit rates are the relay's measured ones, in bits per second.
 */
export function admitsForward(
  uploadLimitBps: number | null,
  committedBps: number,
  bitrateBps: number,
): boolean {
  if (uploadLimitBps === null) return true;
  if (uploadLimitBps <= 0) return false;
  return committedBps + bitrateBps <= uploadLimitBps;
}

/** Spare upload after one more forward, or null if unlimited. */
export function headroomAfter(
  uploadLimitBps: number | null,
  committedBps: number,
  bitrateBps: number,
): number | null {
  if (uploadLimitBps === null) return null;
  return uploadLimitBps - committedBps - bitrateBps;
}

/** A ticket this node serves, as far as its upload is concerned. */
export interface ServedCommitment {
  streamId: string;
  /** The rate the ticket was admitted at. */
  bitrateBps: number;
  confirmed: boolean;
}

/**
 * Bit rate already promised to downstream nodes (offered or confirmed tickets): per ticket the larger of
 * the relay's current measure of its stream and the rate it was admitted at, so a 5 s average that dips
 * makes no room the stream will use again.
 */
export function committedBps(
  served: readonly ServedCommitment[],
  measuredBps: (streamId: string) => number,
): number {
  let sum = 0;
  for (const t of served) sum += Math.max(measuredBps(t.streamId), t.bitrateBps);
  return sum;
}
