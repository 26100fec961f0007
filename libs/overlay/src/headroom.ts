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
