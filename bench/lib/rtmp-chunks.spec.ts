import { RtmpChunkReader, amfName, amfString, encodeRtmpMessage, rtmpCommand } from './rtmp-chunks';

describe('RTMP chunk stream', () => {
  const payload = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));

  it('reassembles a message split into chunks, fed a byte at a time', () => {
    const wire = encodeRtmpMessage({ csid: 6, type: 9, streamId: 1, timestamp: 1234, payload }, 128);
    expect(wire.length).toBe(12 + 300 + 2); // one fmt 0 header, two fmt 3 continuation bytes
    const reader = new RtmpChunkReader();
    const got = [...wire].flatMap((b) => reader.push(Buffer.from([b])));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ csid: 6, type: 9, streamId: 1, timestamp: 1234 });
    expect(got[0].payload.equals(payload)).toBe(true);
  });

  it("honours the peer's Set Chunk Size", () => {
    const size = Buffer.alloc(4);
    size.writeUInt32BE(4096);
    const wire = Buffer.concat([
      encodeRtmpMessage({ csid: 2, type: 1, streamId: 0, payload: size }, 128),
      encodeRtmpMessage({ csid: 6, type: 9, streamId: 1, timestamp: 40, payload }, 4096),
    ]);
    const got = new RtmpChunkReader().push(wire);
    expect(got.map((m) => m.type)).toEqual([1, 9]);
    expect(got[1].payload.equals(payload)).toBe(true);
  });

  it('carries extended timestamps on every chunk of the message', () => {
    const ts = 0x1000000 + 5;
    const wire = encodeRtmpMessage({ csid: 6, type: 9, streamId: 1, timestamp: ts, payload }, 128);
    expect(wire.length).toBe(16 + 300 + 2 * 5);
    const [m] = new RtmpChunkReader().push(wire);
    expect(m.timestamp).toBe(ts);
    expect(m.payload.equals(payload)).toBe(true);
  });

  it('adds fmt 1 and fmt 2 timestamp deltas, and fmt 3 at a message start repeats the last delta', () => {
    const first = encodeRtmpMessage(
      { csid: 4, type: 8, streamId: 1, timestamp: 100, payload: Buffer.from([1]) },
      128,
    );
    const fmt1 = Buffer.from([0x44, 0, 0, 23, 0, 0, 1, 8, 2]); // delta 23, length 1, audio
    const fmt2 = Buffer.from([0x84, 0, 0, 20, 3]); // delta 20
    const fmt3 = Buffer.from([0xc4, 4]); // same delta again
    const got = new RtmpChunkReader().push(Buffer.concat([first, fmt1, fmt2, fmt3]));
    expect(got.map((m) => m.timestamp)).toEqual([100, 123, 143, 163]);
    expect(got.map((m) => m.payload[0])).toEqual([1, 2, 3, 4]);
  });

  it('refuses a compressed header on a chunk stream that never had a full one', () => {
    expect(() => new RtmpChunkReader().push(Buffer.from([0x84, 0, 0, 20, 3]))).toThrow(/no header before/);
  });

  it('names a command', () => {
    const wire = rtmpCommand({ csid: 3, streamId: 0, chunkSize: 128 }, 'createStream', 2, amfString('x'));
    const [m] = new RtmpChunkReader().push(wire);
    expect(m.type).toBe(20);
    expect(amfName(m.payload)).toBe('createStream');
    expect(amfName(Buffer.from([0x05]))).toBeNull();
  });
});
