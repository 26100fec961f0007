import fc from 'fast-check';
import { FlvTagClock, LagMeter, RtmpMessageClock } from './media-clock';

type Tag = { type: number; timestamp: number; size: number };

function flvBytes(tags: Tag[]): Buffer {
  const parts = [Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0])];
  for (const t of tags) {
    const h = Buffer.alloc(11);
    h[0] = t.type;
    h.writeUIntBE(t.size, 1, 3);
    h.writeUIntBE(t.timestamp & 0xffffff, 4, 3);
    h[7] = t.timestamp >>> 24;
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(11 + t.size);
    parts.push(h, Buffer.alloc(t.size, 0xaa), tail);
  }
  return Buffer.concat(parts);
}

/** An RTMP server's output: Set Chunk Size, then each tag as fmt 0 (first) or fmt 1 (delta) and fmt 3 continuations. */
function rtmpBytes(tags: Tag[], chunkSize: number): Buffer {
  const parts: Buffer[] = [];
  const set = Buffer.alloc(16);
  set[0] = 2;
  set.writeUIntBE(4, 4, 3);
  set[7] = 1;
  set.writeUInt32BE(chunkSize, 12);
  parts.push(set);
  let last = -1;
  for (const t of tags) {
    const first = last < 0;
    const field = first ? t.timestamp : t.timestamp - last;
    const ext = field >= 0xffffff;
    const h = Buffer.alloc(first ? 12 : 8);
    h[0] = (first ? 0 : 1 << 6) | 6;
    h.writeUIntBE(ext ? 0xffffff : field, 1, 3);
    h.writeUIntBE(t.size, 4, 3);
    h[7] = t.type;
    parts.push(h);
    if (ext) parts.push(Buffer.from([field >>> 24, (field >> 16) & 255, (field >> 8) & 255, field & 255]));
    for (let o = 0; o < t.size; o += chunkSize) {
      if (o > 0) {
        parts.push(Buffer.from([(3 << 6) | 6]));
        if (ext)
          parts.push(Buffer.from([field >>> 24, (field >> 16) & 255, (field >> 8) & 255, field & 255]));
      }
      parts.push(Buffer.alloc(Math.min(chunkSize, t.size - o), 0x55));
    }
    last = t.timestamp;
  }
  return Buffer.concat(parts);
}

const tagsArb = fc
  .array(
    fc.record({
      type: fc.constantFrom(8, 9, 18),
      step: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constant(0x1000000)),
      size: fc.integer({ min: 0, max: 9000 }),
    }),
    { minLength: 1, maxLength: 30 },
  )
  .map((list) => {
    let ts = 0;
    return list.map((t) => ({ type: t.type, size: t.size, timestamp: (ts += t.step) }));
  });

/** Feeds `bytes` split at the given cut points. */
function feed(push: (b: Buffer) => void, bytes: Buffer, cuts: number[]): void {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let at = 0;
  for (const p of [...points, bytes.length]) {
    push(bytes.subarray(at, p));
    at = p;
  }
}

const media = (tags: Tag[]): [number, number][] =>
  tags.filter((t) => t.type !== 18).map((t) => [t.type, t.timestamp]);

describe('FlvTagClock', () => {
  it('reports every audio and video tag with its timestamp, however the bytes are split', () => {
    fc.assert(
      fc.property(tagsArb, fc.array(fc.nat(), { maxLength: 20 }), (tags, cuts) => {
        const seen: [number, number][] = [];
        const clock = new FlvTagClock((type, ts) => seen.push([type, ts]));
        feed((b) => clock.push(b), flvBytes(tags), cuts);
        expect(seen).toEqual(media(tags));
      }),
    );
  });
});

describe('RtmpMessageClock', () => {
  it('reports every audio and video message with its timestamp across chunks, extended timestamps and splits', () => {
    fc.assert(
      fc.property(
        tagsArb,
        fc.integer({ min: 128, max: 8192 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (tags, chunkSize, cuts) => {
          const seen: [number, number][] = [];
          const clock = new RtmpMessageClock((type, ts) => seen.push([type, ts]));
          feed((b) => clock.push(b), rtmpBytes(tags, chunkSize), cuts);
          expect(seen).toEqual(media(tags));
        },
      ),
    );
  });
});

describe('LagMeter', () => {
  it('measures lag from the most live arrival, not from a join burst', () => {
    const m = new LagMeter();
    // A burst of the cached GOP: old timestamps arriving at once, then live tags 40 ms apart.
    for (let ts = 0; ts <= 1960; ts += 40) m.tag(ts, 10_000);
    m.reset();
    for (let ts = 2000; ts <= 4000; ts += 40) m.tag(ts, 10_000 + (ts - 2000) + 1);
    expect(m.maxLagMs).toBe(0);
    m.tag(4040, 10_000 + 2040 + 1 + 1500);
    expect(m.maxLagMs).toBe(1500);
  });

  it('starts over when the timestamps go back', () => {
    const m = new LagMeter();
    m.tag(50_000, 1000);
    m.tag(0, 2000);
    m.reset();
    m.tag(40, 2040);
    expect(m.maxLagMs).toBe(0);
  });
});
