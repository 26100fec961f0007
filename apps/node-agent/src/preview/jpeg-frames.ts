/**
 * Splits ffmpeg's image2pipe MJPEG output (JPEGs back to back) into whole JPEGs. It walks each image's marker
 * segments by their lengths up to the start of scan, then scans the entropy-coded data for the first marker
 * that is neither a stuffed FF 00 nor a restart marker: the EOI. Bounded: bytes before a start-of-image are
 * dropped, and an image longer than `maxBytes` is dropped whole (the splitter then looks for the next one).
 */
export class JpegFrames {
  private buffer: Buffer = Buffer.alloc(0);
  /** Images dropped for being too long or malformed. */
  dropped = 0;

  constructor(private readonly maxBytes: number) {}

  /** Adds bytes; returns the images they complete, oldest first. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const images: Buffer[] = [];
    for (;;) {
      const start = this.buffer.indexOf(SOI);
      if (start < 0) {
        // Keep the last two bytes: they may begin the next SOI.
        this.buffer = Buffer.from(this.buffer.subarray(Math.max(0, this.buffer.length - 2)));
        return images;
      }
      if (start > 0) this.buffer = this.buffer.subarray(start);
      const end = imageEnd(this.buffer, this.maxBytes);
      if (end === 'more') {
        if (this.buffer.length > this.maxBytes) this.skip();
        else return images;
      } else if (end === 'bad') this.skip();
      else {
        if (end <= this.maxBytes) images.push(Buffer.from(this.buffer.subarray(0, end)));
        else this.dropped++;
        this.buffer = this.buffer.subarray(end);
      }
    }
  }

  /** Drops the image at the head of the buffer; the next SOI starts over. */
  private skip(): void {
    this.dropped++;
    this.buffer = this.buffer.subarray(2);
  }
}

const SOI = Buffer.from([0xff, 0xd8, 0xff]);

/** The end (exclusive) of the JPEG at the start of `b`, 'more' if it is not complete yet, 'bad' if malformed. */
export function imageEnd(b: Buffer, maxBytes: number): number | 'more' | 'bad' {
  let at = 2;
  for (;;) {
    if (at + 4 > b.length) return at > maxBytes ? 'bad' : 'more';
    if (b[at] !== 0xff) return 'bad';
    const marker = b[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xd8 || marker === 0xd9) return 'bad';
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const length = b.readUInt16BE(at + 2);
    if (length < 2) return 'bad';
    at += 2 + length;
    if (marker === 0xda) break;
  }
  // Entropy-coded data: FF 00 is a stuffed FF, FF D0-D7 a restart, FF FF fill; any other marker ends the scan.
  for (let i = at; i + 1 < b.length; i++) {
    if (b[i] !== 0xff) continue;
    const m = b[i + 1];
    if (m === 0x00 || (m >= 0xd0 && m <= 0xd7) || m === 0xff) continue;
    if (m === 0xd9) return i + 2;
    // Another marker (a second scan of a progressive JPEG): walk on from it.
    const rest = imageEnd(Buffer.concat([Buffer.from([0xff, 0xd8]), b.subarray(i)]), maxBytes);
    return typeof rest === 'number' ? i + rest - 2 : rest;
  }
  return b.length > maxBytes ? 'bad' : 'more';
}
