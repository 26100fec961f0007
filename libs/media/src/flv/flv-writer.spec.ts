import { readFileSync } from 'node:fs';
import { sampleFlvPath } from '@astral/testing';
import { parseFlvFile } from './flv-parser';
import { decodeFlvTag, encodeFlvHeader, encodeFlvTag } from './flv-writer';

describe(decodeFlvTag.name, () => {
  const { tags } = parseFlvFile(readFileSync(sampleFlvPath()));

  it('reads back every tag of the sample that encodeFlvTag wrote, body as a view', () => {
    for (const tag of tags.slice(0, 300)) {
      const wire = encodeFlvTag(tag);
      const back = decodeFlvTag(wire)!;
      expect(back).toEqual({
        type: tag.type,
        timestamp: tag.timestamp,
        streamId: tag.streamId,
        data: tag.data,
      });
      expect(back.data.buffer).toBe(wire.buffer);
    }
  });

  it('keeps timestamps past 24 bits (the extended byte)', () => {
    const wire = encodeFlvTag({ ...tags[0], timestamp: 0x12345678 });
    expect(decodeFlvTag(wire)!.timestamp).toBe(0x12345678);
  });

  it('returns null for anything that is not exactly one tag', () => {
    const wire = encodeFlvTag(tags[5]);
    expect(decodeFlvTag(encodeFlvHeader())).toBeNull();
    expect(decodeFlvTag(wire.subarray(0, wire.length - 1))).toBeNull();
    expect(decodeFlvTag(Buffer.concat([wire, wire]))).toBeNull();
    const badSize = Buffer.from(wire);
    badSize.writeUInt32BE(1, badSize.length - 4);
    expect(decodeFlvTag(badSize)).toBeNull();
    const badType = Buffer.from(wire);
    badType[0] = 7;
    expect(decodeFlvTag(badType)).toBeNull();
  });
});
