import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { sampleFlvPath } from '@astral/testing';
import { FLV_MAX_TAG_SIZE, FlvTag, FlvTagType } from './flv-tag';
import { FlvParseError, FlvParser, parseFlvFile } from './flv-parser';
import { encodeFlvFile, encodeFlvHeader, encodeFlvTag } from './flv-writer';

const sample = readFileSync(sampleFlvPath());
const sampleTags = parseFlvFile(sample).tags;

/** Tags in wire form: comparing these is exact and far cheaper than a deep toEqual over many Buffers. */
const wire = (tags: FlvTag[]): Buffer => Buffer.concat(tags.map((t) => encodeFlvTag(t)));
const sampleWire = wire(sampleTags);

/** Splits `bytes` at the given (unsorted, possibly repeated) cut points. */
function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  return chunks;
}

/** Splits `bytes` into chunks whose sizes cycle through `sizes`. */
function splitBySizes(bytes: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/**
 * Feeds every chunk. The only acceptable failure is an FlvParseError, after which the parser must
 * stay failed with that same error.
 */
function feed(sut: FlvParser, chunks: Buffer[]): { tags: FlvTag[]; error: FlvParseError | null } {
  const tags: FlvTag[] = [];
  for (const chunk of chunks) {
    try {
      tags.push(...sut.push(chunk));
    } catch (err) {
      expect(err).toBeInstanceOf(FlvParseError);
      for (const next of [Buffer.alloc(0), Buffer.from('FLV'), sample.subarray(0, 4096)]) {
        let again: unknown = null;
        try {
          sut.push(next);
        } catch (e) {
          again = e;
        }
        expect(again).toBe(err);
      }
      return { tags, error: err as FlvParseError };
    }
  }
  return { tags, error: null };
}

/** An FLV header, PreviousTagSize0, then one tag header declaring `dataSize` bytes. */
function tagHeaderDeclaring(dataSize: number, typeByte: number = FlvTagType.Video): Buffer {
  const tagHeader = Buffer.alloc(11);
  tagHeader[0] = typeByte;
  tagHeader.writeUIntBE(dataSize, 1, 3);
  return Buffer.concat([encodeFlvHeader(), tagHeader]);
}

const tagArb: fc.Arbitrary<FlvTag> = fc.record({
  type: fc.constantFrom(FlvTagType.Audio, FlvTagType.Video, FlvTagType.Script),
  timestamp: fc.nat({ max: 0xffffffff }),
  streamId: fc.nat({ max: 0xffffff }),
  data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
});

describe(FlvParser.name, () => {
  describe('with the bundled sample', () => {
    it('round-trips byte for byte through parseFlvFile and encodeFlvFile', () => {
      const { header, tags, trailingPreviousTagSize } = parseFlvFile(sample);
      expect(tags).toHaveLength(822);
      expect(header).toMatchObject({ version: 1, hasAudio: true, hasVideo: true });
      const sut = encodeFlvFile(header.raw, tags, trailingPreviousTagSize);
      expect(sut.equals(sample)).toBe(true);
    });

    it('round-trips a file without the trailing PreviousTagSize', () => {
      const cut = sample.subarray(0, sample.length - 4);
      const { header, tags, trailingPreviousTagSize } = parseFlvFile(cut);
      expect(trailingPreviousTagSize).toBe(false);
      expect(encodeFlvFile(header.raw, tags, false).equals(cut)).toBe(true);
    });

    it('yields the same tags whatever the chunking', () => {
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 300 }), (cuts) => {
          const sut = new FlvParser();
          const { tags, error } = feed(sut, splitAt(sample, cuts));
          expect(error).toBeNull();
          expect(tags).toHaveLength(sampleTags.length);
          expect(wire(tags).equals(sampleWire)).toBe(true);
          // Each tag is read with its PreviousTagSize: nothing is left over after the last one.
          expect(sut.pendingBytes).toBe(0);
        }),
        { numRuns: 40 },
      );
    });

    it('yields the same tags when fed in small chunks', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }), (sizes) => {
          const head = sample.subarray(0, 40_000);
          const sut = new FlvParser();
          const { tags, error } = feed(sut, splitBySizes(head, sizes));
          expect(error).toBeNull();
          expect(wire(tags).equals(wire(new FlvParser().push(head)))).toBe(true);
        }),
        { numRuns: 20 },
      );
    });
  });

  describe('fuzzed', () => {
    const chunkSizes = fc.array(fc.integer({ min: 1, max: 2048 }), { minLength: 1, maxLength: 16 });

    it('throws only FlvParseError on random bytes, and stays failed', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a)),
        fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.concat([encodeFlvHeader(), Buffer.from(a)])),
      );
      fc.assert(
        fc.property(bytes, chunkSizes, (input, sizes) => {
          feed(new FlvParser(), splitBySizes(input, sizes));
        }),
        { numRuns: 200 },
      );
    });

    it('throws only FlvParseError on a truncated, bit-flipped sample, and stays failed', () => {
      const head = sample.subarray(0, 64 * 1024);
      const damage = fc.record({
        length: fc.integer({ min: 0, max: head.length }),
        flips: fc.array(fc.record({ at: fc.nat({ max: head.length - 1 }), bit: fc.nat({ max: 7 }) }), {
          maxLength: 8,
        }),
      });
      fc.assert(
        fc.property(damage, chunkSizes, ({ length, flips }, sizes) => {
          const input = Buffer.from(head.subarray(0, length));
          for (const { at, bit } of flips) if (at < input.length) input[at] ^= 1 << bit;
          const { tags } = feed(new FlvParser(), splitBySizes(input, sizes));
          if (flips.length === 0) expect(wire(tags).equals(wire(new FlvParser().push(input)))).toBe(true);
        }),
        { numRuns: 200 },
      );
    });

    it('does linear work while a large tag arrives in small chunks', () => {
      const size = 6 * 1024 * 1024;
      const input = Buffer.concat([tagHeaderDeclaring(size), Buffer.alloc(size, 7), Buffer.alloc(4)]);
      const sut = new FlvParser();
      const started = performance.now();
      const { tags, error } = feed(sut, splitBySizes(input, [1400]));
      const elapsedMs = performance.now() - started;
      expect(error).toBeNull();
      expect(tags).toHaveLength(1);
      expect(tags[0].data.length).toBe(size);
      // Copying the held bytes on every push (quadratic) takes many seconds here; linear work takes ~10 ms.
      expect(elapsedMs).toBeLessThan(1500);
    });
  });

  describe('rejects', () => {
    it('a tag larger than the default limit of 8 MiB', () => {
      const sut = new FlvParser();
      expect(() => sut.push(tagHeaderDeclaring(8 * 1024 * 1024 + 1))).toThrow(/exceeds the limit/);
    });

    it('a tag larger than a configured limit, and accepts one at the limit', () => {
      const at = Buffer.concat([tagHeaderDeclaring(1000), Buffer.alloc(1000), Buffer.alloc(4)]);
      expect(new FlvParser({ maxTagSize: 1000 }).push(at)).toHaveLength(1);
      expect(() => new FlvParser({ maxTagSize: 999 }).push(at)).toThrow(FlvParseError);
    });

    it('a bad signature as soon as three bytes are in', () => {
      const sut = new FlvParser();
      expect(sut.push(Buffer.from('FL'))).toEqual([]);
      expect(() => sut.push(Buffer.from('X'))).toThrow(/signature/);
      expect(() =>
        new FlvParser().push(Buffer.from(sample.toString('latin1').replace(/^FLV/, 'FLX'), 'latin1')),
      ).toThrow(FlvParseError);
    });

    it('an out-of-range header size', () => {
      const header = encodeFlvHeader();
      header.writeUInt32BE(5, 5);
      expect(() => new FlvParser().push(header)).toThrow(/header size/);
    });

    it('an encrypted (filtered) tag', () => {
      expect(() => new FlvParser().push(tagHeaderDeclaring(10, 0x20 | FlvTagType.Video))).toThrow(
        /encrypted/,
      );
    });

    it('an unknown tag type', () => {
      expect(() => new FlvParser().push(tagHeaderDeclaring(10, 7))).toThrow(/unknown tag type 7/);
    });

    it('a file that ends inside a tag', () => {
      expect(() => parseFlvFile(sample.subarray(0, 1000))).toThrow(/ends inside a tag/);
      expect(() => parseFlvFile(Buffer.from('FLV'))).toThrow(FlvParseError);
    });
  });

  it('parses a headerless tag stream', () => {
    const body = sample.subarray(13 - 4, 20_000);
    const sut = new FlvParser({ headerless: true });
    expect(wire(sut.push(body)).equals(wire(new FlvParser().push(sample.subarray(0, 20_000))))).toBe(true);
    expect(sut.header).toBeNull();
  });
});

describe(encodeFlvTag.name, () => {
  it('writes tags that parse back to the same tags, extended timestamps included', () => {
    fc.assert(
      fc.property(
        fc.array(tagArb, { maxLength: 20 }),
        fc.boolean(),
        fc.boolean(),
        (tags, hasAudio, hasVideo) => {
          const sut = new FlvParser();
          const parsed = sut.push(
            Buffer.concat([encodeFlvHeader(hasAudio, hasVideo), ...tags.map((t) => encodeFlvTag(t))]),
          );
          expect(parsed).toEqual(tags);
          expect(sut.header).toMatchObject({ hasAudio, hasVideo });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('writes the timestamp override instead of the tag timestamp', () => {
    const tag = sampleTags[10];
    const [sut] = new FlvParser({ headerless: true }).push(
      Buffer.concat([Buffer.alloc(4), encodeFlvTag(tag, 0x12345678)]),
    );
    expect(sut).toEqual({ ...tag, timestamp: 0x12345678 });
  });

  it('ends every tag with its PreviousTagSize', () => {
    const sut = encodeFlvTag(sampleTags[3]);
    expect(sut.readUInt32BE(sut.length - 4)).toBe(11 + sampleTags[3].data.length);
    expect(FLV_MAX_TAG_SIZE).toBe(0xffffff);
  });
});
