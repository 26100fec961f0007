import fc from 'fast-check';
import {
  RtmpChunkReader,
  amfName,
  amfNumber,
  amfString,
  encodeRtmpMessage,
  rtmpCommand,
} from './rtmp-chunks';

/** Feeds `bytes` to a reader in pieces cut at `cuts` (positions), as TCP may deliver them. */
function readInPieces(
  bytes: Buffer,
  cuts: number[],
  reader = new RtmpChunkReader(),
): ReturnType<RtmpChunkReader['push']> {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: ReturnType<RtmpChunkReader['push']> = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    out.push(...reader.push(bytes.subarray(from, c)));
    from = c;
  }
  return out;
}

describe('RtmpChunkReader', () => {
  it('reads back what encodeRtmpMessage writes, whatever the chunk size and TCP cuts (extended timestamps too)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            csid: fc.integer({ min: 3, max: 63 }),
            type: fc.constantFrom(8, 9, 18, 20),
            streamId: fc.integer({ min: 0, max: 5 }),
            timestamp: fc.oneof(
              fc.integer({ min: 0, max: 0xfffffe }),
              fc.integer({ min: 0xffffff, max: 0xffffffff }),
            ),
            payload: fc.uint8Array({ minLength: 1, maxLength: 600 }).map((a) => Buffer.from(a)),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.constantFrom(128, 200, 4096),
        fc.array(fc.nat(), { maxLength: 10 }),
        (messages, chunkSize, cuts) => {
          const setChunk = Buffer.alloc(4);
          setChunk.writeUInt32BE(chunkSize);
          const bytes = Buffer.concat([
            encodeRtmpMessage({ csid: 2, type: 1, streamId: 0, payload: setChunk }, 128),
            ...messages.map((m) => encodeRtmpMessage(m, chunkSize)),
          ]);
          const got = readInPieces(bytes, cuts).slice(1);
          expect(got.map((m) => ({ ...m, payload: Buffer.from(m.payload) }))).toEqual(messages);
        },
      ),
    );
  });

  it('adds fmt 1 and fmt 2 deltas, and repeats the last delta on a fmt 3 message start', () => {
    const body = Buffer.from([0xaa, 0xbb]);
    const fmt0 = Buffer.from([0x06, 0, 0, 100, 0, 0, 2, 9, 1, 0, 0, 0]); // csid 6, ts 100, len 2, video, msid 1
    const fmt1 = Buffer.from([0x46, 0, 0, 40, 0, 0, 2, 9]); // delta 40, len 2, video
    const fmt2 = Buffer.from([0x86, 0, 0, 33]); // delta 33
    const fmt3 = Buffer.from([0xc6]); // delta 33 again
    const got = new RtmpChunkReader().push(Buffer.concat([fmt0, body, fmt1, body, fmt2, body, fmt3, body]));
    expect(got.map((m) => [m.timestamp, m.type, m.streamId, m.payload.toString('hex')])).toEqual([
      [100, 9, 1, 'aabb'],
      [140, 9, 1, 'aabb'],
      [173, 9, 1, 'aabb'],
      [206, 9, 1, 'aabb'],
    ]);
  });

  it('reads a two-byte chunk stream id', () => {
    const m = new RtmpChunkReader().push(Buffer.from([0x00, 6, 0, 0, 7, 0, 0, 1, 8, 0, 0, 0, 0, 0x42]));
    expect(m).toEqual([expect.objectContaining({ csid: 70, timestamp: 7, type: 8 })]);
  });

  it('refuses a continuation header on a chunk stream it never saw', () => {
    expect(() => new RtmpChunkReader().push(Buffer.from([0xc5, 1, 2]))).toThrow(/no header before/);
  });
});

describe('rtmpCommand', () => {
  it('is a type 20 message whose payload starts with the AMF0 name and transaction id', () => {
    const [m] = new RtmpChunkReader().push(
      rtmpCommand({ csid: 3, streamId: 0, chunkSize: 128 }, 'connect', 1),
    );
    expect(m.type).toBe(20);
    expect(amfName(m.payload)).toBe('connect');
    expect(m.payload).toEqual(Buffer.concat([amfString('connect'), amfNumber(1)]));
  });
});
