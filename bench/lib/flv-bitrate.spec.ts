import { encodeFlvFile, encodeFlvHeader } from '@astral/media';
import { syntheticFlv } from '@astral/testing';
import { flvBitrateBps } from './flv-bitrate';

describe(flvBitrateBps.name, () => {
  it('is the file size in bits over the span of its timestamps', () => {
    const file = encodeFlvFile(encodeFlvHeader().subarray(0, 9), [
      syntheticFlv.keyframe(1000, 100),
      syntheticFlv.interframe(1500, 100),
      syntheticFlv.interframe(3000, 100),
    ]);
    expect(flvBitrateBps(file)).toBe((file.length * 8) / 2);
  });
});
