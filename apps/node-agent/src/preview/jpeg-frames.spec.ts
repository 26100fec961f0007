import { JpegFrames } from './jpeg-frames';

/** A 16x8 red frame from ffmpeg's mjpeg encoder. */
const RED = Buffer.from(
  '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAg+Pkk+SVVVVVVVVWRdZGhoaGRkZGRoaGhwcHCDg4NwcHBoaHBwfHyDg4+Tj4eHg4eTk5ubm7q6srLZ2eD/////xABMAAEBAAAAAAAAAAAAAAAAAAAABgEBAQAAAAAAAAAAAAAAAAAABgcQAQAAAAAAAAAAAAAAAAAAAAARAQAAAAAAAAAAAAAAAAAAAAD/wAARCAAIABADASIAAhEAAxEA/9oADAMBAAIRAxEAPwCLAFF/f//Z',
  'base64',
);

describe(JpegFrames.name, () => {
  it('splits JPEGs back to back, however the bytes are chunked', () => {
    const stream = Buffer.concat([RED, RED, RED]);
    for (const size of [1, 7, 100, stream.length]) {
      const sut = new JpegFrames(1024);
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...sut.push(stream.subarray(i, i + size)));
      expect(out).toHaveLength(3);
      for (const img of out) expect(img.equals(RED)).toBe(true);
    }
  });

  it('keeps nothing but an incomplete image: junk between images is dropped', () => {
    const sut = new JpegFrames(1024);
    expect(sut.push(Buffer.from('garbage before'))).toEqual([]);
    const out = sut.push(Buffer.concat([RED, Buffer.from('junk'), RED.subarray(0, 50)]));
    expect(out).toHaveLength(1);
    expect(sut.push(RED.subarray(50))).toHaveLength(1);
  });

  it('drops an image longer than the bound and takes the next one', () => {
    const sut = new JpegFrames(RED.length - 1);
    expect(sut.push(Buffer.concat([RED, RED]))).toEqual([]);
    expect(sut.dropped).toBeGreaterThan(0);
    const roomy = new JpegFrames(RED.length);
    expect(roomy.push(Buffer.concat([RED, RED]))).toHaveLength(2);
  });

  it('stays bounded on an endless stream without an end marker', () => {
    const sut = new JpegFrames(4096);
    sut.push(RED.subarray(0, RED.length - 2));
    for (let i = 0; i < 100; i++) sut.push(Buffer.alloc(1000, 0x11));
    expect((sut as unknown as { buffer: Buffer }).buffer.length).toBeLessThan(8192);
    expect(sut.push(RED)).toHaveLength(1);
  });
});
