import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { sampleFlvPath } from '@astral/testing';
import { FlvTag, FlvTagType } from './flv-tag';
import { FlvParser, parseFlvFile } from './flv-parser';
import { decodeFlvTag, encodeFlvHeader, encodeFlvTag, wireOf } from './flv-writer';
import { retimed, withWire } from './wire-tag';

const tagArb: fc.Arbitrary<FlvTag> = fc.record({
  type: fc.constantFrom(FlvTagType.Audio, FlvTagType.Video, FlvTagType.Script),
  timestamp: fc.nat({ max: 0xffffffff }),
  streamId: fc.nat({ max: 0xffffff }),
  data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
});

/** Tags in a stream as a socket would carry them, cut at random points (each chunk a buffer of its own). */
const streamArb = fc
  .record({
    tags: fc.array(tagArb, { minLength: 1, maxLength: 20 }),
    cuts: fc.array(fc.nat(), { maxLength: 30 }),
  })
  .map(({ tags, cuts }) => {
    const bytes = Buffer.concat([encodeFlvHeader(), ...tags.map((t) => encodeFlvTag(t))]);
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const chunks: Buffer[] = [];
    let from = 0;
    for (const p of [...points, bytes.length]) {
      // Buffer.alloc: never the shared pool, so each chunk is memory of its own.
      const chunk = Buffer.alloc(p - from);
      bytes.copy(chunk, 0, from, p);
      chunks.push(chunk);
      from = p;
    }
    return { tags, chunks };
  });

function parseAll(chunks: Buffer[]): FlvTag[] {
  const sut = new FlvParser();
  return chunks.flatMap((c) => sut.push(c));
}

/** Is `view` inside one of `chunks`' memory (a view, not a copy)? */
const isViewOf = (view: Buffer, chunks: Buffer[]): boolean => chunks.some((c) => c.buffer === view.buffer);

describe('wire tags', () => {
  it('parses tags whose wire and body are views of the chunk, copied only when a tag spans chunks', () => {
    fc.assert(
      fc.property(streamArb, ({ tags, chunks }) => {
        const parsed = parseAll(chunks);
        expect(parsed).toEqual(tags);
        let offset = encodeFlvHeader().length;
        const starts = chunks.map(((at) => (c: Buffer) => ((at += c.length), at - c.length))(0));
        parsed.forEach((tag, i) => {
          const expected = encodeFlvTag(tags[i]);
          expect(tag.wire?.equals(expected)).toBe(true);
          expect(tag.data.buffer).toBe(tag.wire?.buffer);
          const within = starts.findIndex(
            (s, k) => s <= offset && offset + expected.length <= s + chunks[k].length,
          );
          // A tag whole in one chunk is that chunk's memory; one spanning chunks is a buffer of its own.
          expect(isViewOf(tag.wire!, chunks)).toBe(within >= 0);
          if (within >= 0) expect(tag.wire!.buffer).toBe(chunks[within].buffer);
          offset += expected.length;
        });
      }),
      { numRuns: 100 },
    );
  });

  it('retimes in place: the wire, patched, equals the encoder’s output for the retimed tag', () => {
    const shifts = fc.array(fc.integer({ min: -0x7fffffff, max: 0x7fffffff }), { minLength: 1 });
    fc.assert(
      fc.property(streamArb, shifts, ({ tags, chunks }, deltas) => {
        const parsed = parseAll(chunks);
        parsed.forEach((tag, i) => {
          const ts = (tags[i].timestamp + deltas[i % deltas.length]) >>> 0;
          const wire = tag.wire!;
          const memory = wire.buffer;
          const sut = retimed(tag, ts);
          expect(sut).toEqual({ ...tags[i], timestamp: ts });
          expect(wireOf(sut).equals(encodeFlvTag(tags[i], ts))).toBe(true);
          // The same tag and the same memory, 4 bytes patched: no allocation, no copy.
          expect(sut).toBe(tag);
          expect(sut.wire).toBe(wire);
          expect(sut.wire!.buffer).toBe(memory);
        });
      }),
      { numRuns: 100 },
    );
  });

  it('never modifies a shared wire: node-media-server’s buffer, a file in memory', () => {
    fc.assert(
      fc.property(tagArb, fc.nat({ max: 0xffffffff }), (tag, ts) => {
        fc.pre(ts !== tag.timestamp);
        const shared = encodeFlvTag(tag);
        const before = Buffer.from(shared);
        const file = Buffer.concat([encodeFlvHeader(), encodeFlvTag(tag)]);
        const fileBefore = Buffer.from(file);
        for (const decoded of [decodeFlvTag(shared)!, parseFlvFile(file).tags[0]]) {
          expect(decoded.wire).toBeDefined();
          const sut = retimed(decoded, ts);
          expect(sut.wire).toBeUndefined();
          expect(wireOf(sut).equals(encodeFlvTag(tag, ts))).toBe(true);
          expect(decoded.wire).toBeDefined();
          expect(decoded.timestamp).toBe(tag.timestamp);
        }
        expect(shared.equals(before)).toBe(true);
        expect(file.equals(fileBefore)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('loses the wire in a spread, so a changed timestamp never sends stale bytes', () => {
    const [tag] = parseAll([
      Buffer.concat([
        encodeFlvHeader(),
        encodeFlvTag({ type: 9, timestamp: 40, streamId: 0, data: Buffer.alloc(9, 0x17) }),
      ]),
    ]);
    const sut = { ...tag, timestamp: 80 };
    expect(sut.wire).toBeUndefined();
    expect(wireOf(sut).equals(encodeFlvTag(tag, 80))).toBe(true);
    expect(withWire(tag, tag.wire!, false)).toEqual(tag);
  });

  it('gives no wire to a tag whose PreviousTagSize disagrees with it (encoded afresh instead)', () => {
    const tag: FlvTag = { type: FlvTagType.Audio, timestamp: 7, streamId: 0, data: Buffer.alloc(20, 0xaf) };
    const bad = encodeFlvTag(tag);
    bad.writeUInt32BE(5, bad.length - 4);
    const [sut] = parseAll([Buffer.concat([encodeFlvHeader(), bad])]);
    expect(sut).toEqual(tag);
    expect(sut.wire).toBeUndefined();
    expect(wireOf(sut).equals(encodeFlvTag(tag))).toBe(true);
  });

  it('reads the sample’s tags as views of the file with their wire forms', () => {
    const file = readFileSync(sampleFlvPath());
    const { tags } = parseFlvFile(file);
    expect(tags.every((t) => t.wire?.buffer === file.buffer && wireOf(t).equals(encodeFlvTag(t)))).toBe(true);
  });
});
