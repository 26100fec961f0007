import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { sampleFlvPath } from '@astral/testing';
import { parseFlvFile, FlvParser } from './flv-parser';
import { FlvTagType } from './flv-tag';
import { encodeFlvTag } from './flv-writer';
import { encodeCloseTag, readCloseTag } from './close-tag';

const { tags } = parseFlvFile(readFileSync(sampleFlvPath()));

describe(readCloseTag.name, () => {
  it('reads back the reason of an encoded close tag, also after the wire', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.nat({ max: 0xffffffff }),
        (reason, timestamp) => {
          const sut = encodeCloseTag(reason, timestamp);
          expect(sut.type).toBe(FlvTagType.Script);
          expect(readCloseTag(sut)).toBe(reason);
          const [onWire] = new FlvParser({ headerless: true }).push(
            Buffer.concat([Buffer.alloc(4), encodeFlvTag(sut)]),
          );
          expect(onWire.timestamp).toBe(timestamp);
          expect(readCloseTag(onWire)).toBe(reason);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('truncates a reason longer than an AMF0 string can hold', () => {
    expect(readCloseTag(encodeCloseTag('a'.repeat(70_000)))).toBe('a'.repeat(0xffff));
  });

  it('returns null for onMetaData and every other tag of the sample', () => {
    expect(tags.map(readCloseTag).every((r) => r === null)).toBe(true);
  });

  it('returns null for random script tags', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
        expect(
          readCloseTag({ type: FlvTagType.Script, timestamp: 0, streamId: 0, data: Buffer.from(data) }),
        ).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it('returns null for a close payload carried in a non-script tag', () => {
    const { data } = encodeCloseTag('leaving');
    expect(readCloseTag({ type: FlvTagType.Video, timestamp: 0, streamId: 0, data })).toBeNull();
    expect(
      readCloseTag({ type: FlvTagType.Script, timestamp: 0, streamId: 0, data: data.subarray(0, 10) }),
    ).toBeNull();
  });
});
