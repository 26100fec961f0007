import { checkJpeg } from './jpeg-check';

/** A 16x8 red frame as ffmpeg's mjpeg encoder writes it (`-f lavfi -i color=red:s=16x8 -frames:v 1 -c:v mjpeg`). */
const RED_16X8 = Buffer.from(
  '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAg+Pkk+SVVVVVVVVWRdZGhoaGRkZGRoaGhwcHCDg4NwcHBoaHBwfHyDg4+Tj4eHg4eTk5ubm7q6srLZ2eD/////xABMAAEBAAAAAAAAAAAAAAAAAAAABgEBAQAAAAAAAAAAAAAAAAAABgcQAQAAAAAAAAAAAAAAAAAAAAARAQAAAAAAAAAAAAAAAAAAAAD/wAARCAAIABADASIAAhEAAxEA/9oADAMBAAIRAxEAPwCLAFF/f//Z',
  'base64',
);

describe(checkJpeg.name, () => {
  const sut = (bytes: Uint8Array, max = 1024) => checkJpeg(bytes, max);

  it('reads the size of a real JPEG from its start-of-frame marker', () => {
    expect(sut(RED_16X8)).toEqual({ ok: true, width: 16, height: 8 });
  });

  it('refuses bytes that are not a JPEG', () => {
    expect(sut(Buffer.from('<html>hello</html>'))).toMatchObject({ ok: false, reason: /FF D8 FF/ });
    expect(sut(Buffer.alloc(0))).toMatchObject({ ok: false });
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    expect(sut(png)).toMatchObject({ ok: false });
  });

  it('refuses an image over the size limit, and takes the same one under it', () => {
    expect(sut(RED_16X8, RED_16X8.length - 1)).toMatchObject({ ok: false, reason: /over/ });
    expect(sut(RED_16X8, RED_16X8.length)).toMatchObject({ ok: true });
  });

  it('refuses a truncated JPEG (no EOI at the end)', () => {
    expect(sut(RED_16X8.subarray(0, RED_16X8.length - 10))).toMatchObject({ ok: false, reason: /EOI/ });
  });

  it('refuses a JPEG without a frame header: magic and EOI alone are not an image', () => {
    expect(sut(Buffer.from('ffd8ffd9', 'hex'))).toMatchObject({ ok: false, reason: /start-of-frame/ });
    expect(sut(Buffer.from('ffd8ffe000104a46494600ffd9', 'hex'))).toMatchObject({ ok: false });
  });

  it('refuses a segment length that points past the end, without reading out of range', () => {
    const lying = Buffer.from(RED_16X8);
    lying[4] = 0xff; // APP0 length 0xff10: far past the end
    expect(sut(lying)).toMatchObject({ ok: false, reason: /past the end/ });
  });

  it('refuses a zero or huge size in the frame header', () => {
    const sof = RED_16X8.indexOf(Buffer.from('ffc0', 'hex'));
    const zero = Buffer.from(RED_16X8);
    zero.writeUInt16BE(0, sof + 5);
    expect(sut(zero)).toMatchObject({ ok: false, reason: /0x16/ });
    const huge = Buffer.from(RED_16X8);
    huge.writeUInt16BE(60000, sof + 7);
    expect(sut(huge)).toMatchObject({ ok: false, reason: /outside/ });
  });

  it('never throws on random bytes behind a valid magic', () => {
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.concat([
        Buffer.from('ffd8ff', 'hex'),
        Buffer.from(Array.from({ length: i % 97 }, () => Math.floor(Math.random() * 256))),
        Buffer.from('ffd9', 'hex'),
      ]);
      expect(() => sut(junk)).not.toThrow();
    }
  });
});
