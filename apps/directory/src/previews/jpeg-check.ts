/** What a JPEG check finds: the image's size, or why the bytes are not a JPEG the directory keeps. */
export type JpegVerdict = { ok: true; width: number; height: number } | { ok: false; reason: string };

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic); not DHT (C4), JPG (C8) or DAC (CC). */
const isStartOfFrame = (m: number): boolean =>
  m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
/** Markers without a length field: TEM, RST0-7, SOI, EOI. */
const isStandalone = (m: number): boolean => m === 0x01 || (m >= 0xd0 && m <= 0xd9);

/** The largest side a preview may have: more is not a preview (and no real encoder writes 0). */
export const MAX_PREVIEW_SIDE = 4096;

/**
 * Whether `bytes` is a JPEG: the SOI magic (FF D8 FF), marker segments walked by their lengths up to a
 * start-of-frame whose width and height are 1..MAX_PREVIEW_SIDE, then an EOI (FF D9) at the end. Pure, and
 * reads only within `bytes`: a lie in a length field ends the walk with a reason, never an out-of-range read.
 */
export function checkJpeg(bytes: Uint8Array, maxBytes: number): JpegVerdict {
  if (bytes.length > maxBytes)
    return { ok: false, reason: `image of ${bytes.length} bytes is over ${maxBytes}` };
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff)
    return { ok: false, reason: 'not a JPEG: it does not start with FF D8 FF' };
  if (bytes[bytes.length - 2] !== 0xff || bytes[bytes.length - 1] !== 0xd9)
    return { ok: false, reason: 'truncated JPEG: it does not end with the EOI marker FF D9' };
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return { ok: false, reason: `no marker at byte ${at}` };
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (isStandalone(marker)) {
      at += 2;
      continue;
    }
    if (marker === 0xda) break; // start of scan before any frame header
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2 || at + 2 + length > bytes.length)
      return { ok: false, reason: `marker FF ${marker.toString(16)} has a length past the end` };
    if (isStartOfFrame(marker)) {
      if (length < 8) return { ok: false, reason: 'start-of-frame segment too short' };
      const height = (bytes[at + 5] << 8) | bytes[at + 6];
      const width = (bytes[at + 7] << 8) | bytes[at + 8];
      if (width < 1 || height < 1 || width > MAX_PREVIEW_SIDE || height > MAX_PREVIEW_SIDE)
        return { ok: false, reason: `image size ${width}x${height} is outside 1..${MAX_PREVIEW_SIDE}` };
      return { ok: true, width, height };
    }
    at += 2 + length;
  }
  return { ok: false, reason: 'no start-of-frame marker: the image size cannot be read' };
}
