import { PlayerQueue, PlayerSink, classifyFlvTag, classifyRtmpMessage } from './player-queue';

function flvTag(type: number, body: number[]): Buffer {
  const b = Buffer.alloc(11 + body.length + 4);
  b[0] = type;
  b.writeUIntBE(body.length, 1, 3);
  Buffer.from(body).copy(b, 11);
  return b;
}

function rtmpMessage(type: number, body: number[], timestamp = 1000): Buffer {
  const ext = timestamp >= 0xffffff;
  const b = Buffer.alloc(12 + (ext ? 4 : 0) + body.length);
  b[0] = 6; // fmt 0, chunk stream 6
  b.writeUIntBE(ext ? 0xffffff : timestamp, 1, 3);
  b.writeUIntBE(body.length, 4, 3);
  b[7] = type;
  if (ext) b.writeUInt32BE(timestamp, 12);
  Buffer.from(body).copy(b, ext ? 16 : 12);
  return b;
}

const KEY = [0x17, 0x01, 0, 0, 0];
const INTER = [0x27, 0x01, 0, 0, 0];
const AVC_HEADER = [0x17, 0x00, 0, 0, 0];
const AAC_HEADER = [0xaf, 0x00, 0x12];
const AAC = [0xaf, 0x01, 0x21];

describe('classifying what node-media-server writes to players', () => {
  it('FLV tags', () => {
    expect(classifyFlvTag(flvTag(9, KEY))).toBe('keyframe');
    expect(classifyFlvTag(flvTag(9, INTER))).toBe('frame');
    expect(classifyFlvTag(flvTag(9, AVC_HEADER))).toBe('header');
    expect(classifyFlvTag(flvTag(8, AAC_HEADER))).toBe('header');
    expect(classifyFlvTag(flvTag(8, AAC))).toBe('frame');
    expect(classifyFlvTag(flvTag(18, [2, 0, 10]))).toBe('header');
    expect(classifyFlvTag(Buffer.from('FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00', 'latin1'))).toBe(
      'header',
    );
  });

  it('RTMP messages, with and without an extended timestamp', () => {
    expect(classifyRtmpMessage(rtmpMessage(9, KEY))).toBe('keyframe');
    expect(classifyRtmpMessage(rtmpMessage(9, INTER, 0x1000000))).toBe('frame');
    expect(classifyRtmpMessage(rtmpMessage(9, KEY, 0x1000000))).toBe('keyframe');
    expect(classifyRtmpMessage(rtmpMessage(8, AAC_HEADER))).toBe('header');
    expect(classifyRtmpMessage(rtmpMessage(8, AAC))).toBe('frame');
    expect(classifyRtmpMessage(Buffer.alloc(3))).toBe('header');
  });
});

describe('PlayerQueue', () => {
  function setup(limit = 1000, maxCutbackMs = 5000) {
    let queued = 0;
    let t = 0;
    const written: Buffer[] = [];
    const closed: string[] = [];
    const sink: PlayerSink = {
      queuedBytes: () => queued,
      write: (b) => written.push(b),
      close: (r) => closed.push(r),
    };
    const q = new PlayerQueue(sink, { maxQueuedBytes: limit, maxCutbackMs }, classifyFlvTag, () => t);
    return {
      q,
      written,
      closed,
      setQueued: (n: number) => (queued = n),
      advance: (ms: number) => (t += ms),
    };
  }

  it('passes everything to a player that reads', () => {
    const s = setup();
    for (let i = 0; i < 100; i += 1) s.q.offer(flvTag(9, i % 30 === 0 ? KEY : INTER));
    expect(s.written).toHaveLength(100);
    expect(s.q.droppedTags).toBe(0);
  });

  it('past half the bound drops frames until a keyframe finds the queue drained, headers always pass', () => {
    const s = setup();
    s.setQueued(600);
    s.q.offer(flvTag(9, INTER));
    s.q.offer(flvTag(8, AAC));
    s.q.offer(flvTag(9, AVC_HEADER));
    s.q.offer(flvTag(9, KEY)); // still above half: dropped too
    expect(s.written.map(classifyFlvTag)).toEqual(['header']);
    expect(s.q.cutbacks).toBe(1);
    s.setQueued(100);
    s.q.offer(flvTag(9, INTER)); // drained, but only a keyframe may resume
    s.q.offer(flvTag(9, KEY));
    s.q.offer(flvTag(9, INTER));
    expect(s.written.map(classifyFlvTag)).toEqual(['header', 'keyframe', 'frame']);
    expect(s.q.droppedTags).toBe(4);
    expect(s.closed).toEqual([]);
  });

  it('disconnects past the whole bound, and a cut-back player that never catches up', () => {
    const a = setup();
    a.setQueued(1001);
    a.q.offer(flvTag(9, KEY));
    expect(a.closed[0]).toMatch(/not reading: 1001 bytes queued/);
    a.q.offer(flvTag(9, KEY));
    expect(a.written).toHaveLength(0);

    const b = setup(1000, 5000);
    b.setQueued(700);
    b.q.offer(flvTag(9, INTER));
    b.advance(5001);
    b.q.offer(flvTag(9, INTER));
    expect(b.closed[0]).toMatch(/not caught up for 5000 ms/);
  });

  it('disconnects a player that falls behind a second time within the window, not one that falls behind rarely', () => {
    const s = setup(1000, 5000);
    s.setQueued(600);
    s.q.offer(flvTag(9, INTER));
    s.setQueued(100);
    s.q.offer(flvTag(9, KEY));
    s.advance(31_000);
    s.setQueued(600);
    s.q.offer(flvTag(9, INTER)); // 31 s later: a second, separate cutback
    expect(s.closed).toEqual([]);
    s.setQueued(100);
    s.q.offer(flvTag(9, KEY));
    s.advance(1000);
    s.setQueued(600);
    s.q.offer(flvTag(9, INTER));
    expect(s.closed[0]).toMatch(/fell behind twice within 30000 ms/);
  });
});
