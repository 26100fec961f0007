import { Socket } from 'node:net';
import { once } from 'node:events';
import { FlvParser, FlvTag, FlvTagType, encodeFlvTag, readCloseTag } from '@astral/media';
import { socketPair, syntheticFlv as flv, waitFor } from '@astral/testing';
import { ForwardCloseKind, ForwardConnection, ForwardLimits } from './forward-connection';
import { UploadBudget } from './upload-budget';

const limits: ForwardLimits = {
  maxQueueBytes: 1000,
  maxLagMs: 100,
  maxCutbacks: 2,
  lagWindowMs: 1000,
  socketHighWater: 64 * 1024,
};
/** What the send-queue probe would report for a downstream that stopped reading. */
const KERNEL_FULL = limits.socketHighWater + 1;

/** The downstream end: parses what arrives on the client socket. */
class Downstream {
  readonly parser = new FlvParser();
  readonly tags: FlvTag[] = [];
  bytes = 0;
  ended = false;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      this.tags.push(...this.parser.push(chunk));
    });
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.ended = true));
  }

  /** Video and audio tags as `type@timestamp` (headers as `vh`, `ah`, `meta`). */
  get seen(): string[] {
    return this.tags.map((t) => {
      if (t.type === FlvTagType.Script) return readCloseTag(t) !== null ? `close:${readCloseTag(t)}` : 'meta';
      const header = t.data[1] === 0 && (t.type === FlvTagType.Audio || (t.data[0] & 0x0f) === 7);
      if (header) return t.type === FlvTagType.Video ? 'vh' : 'ah';
      if (t.type === FlvTagType.Audio) return `a@${t.timestamp}`;
      return `${t.data[0] >> 4 === 1 ? 'k' : 'i'}@${t.timestamp}`;
    });
  }
}

describe('ForwardConnection', () => {
  let pair: Awaited<ReturnType<typeof socketPair>>;
  let downstream: Downstream;
  let now: number;
  let conn: ForwardConnection;
  let closes: { reason: string; kind: ForwardCloseKind }[];
  let cutbacks: { why: string; dropped: number }[];

  const open = (budget = new UploadBudget(null)): ForwardConnection => {
    conn = new ForwardConnection('ticket-1', 'node-1', pair.server, budget, limits, () => now);
    // This test's arrays: a previous test's connection may still report its close.
    const [ownCloses, ownCutbacks] = [closes, cutbacks];
    conn.onClose = (reason, kind) => ownCloses.push({ reason, kind });
    conn.onCutback = (why, dropped) => ownCutbacks.push({ why, dropped });
    return conn;
  };
  const send = (tag: FlvTag): void => conn.deliver(tag, encodeFlvTag(tag));

  beforeEach(async () => {
    pair = await socketPair();
    downstream = new Downstream(pair.client);
    now = 0;
    closes = [];
    cutbacks = [];
  });

  afterEach(() => pair.close());

  it('sends the FLV header and the join sequence, then each live tag, in order', async () => {
    open().start([flv.metadata(), flv.videoHeader(), flv.audioHeader(), flv.keyframe(0), flv.interframe(40)]);
    send(flv.audio(50));
    send(flv.interframe(80));
    await waitFor(() => downstream.tags.length === 7, { timeoutMs: 5000, intervalMs: 5 });
    expect(downstream.parser.header).toMatchObject({ hasAudio: true, hasVideo: true });
    expect(downstream.seen).toEqual(['meta', 'vh', 'ah', 'k@0', 'i@40', 'a@50', 'i@80']);
    expect(conn.bytesSent).toBe(downstream.bytes);
    expect(conn.stats()).toMatchObject({
      ticketId: 'ticket-1',
      downstreamNodeId: 'node-1',
      state: 'live',
      queuedBytes: 0,
      lagMs: 0,
    });
  });

  it('queues while the socket is full and sends the queue in order once it has room', async () => {
    open().start([flv.keyframe(0)]);
    await waitFor(() => downstream.tags.length === 1, { timeoutMs: 5000, intervalMs: 5 });
    conn.onKernelQueue(KERNEL_FULL);
    send(flv.interframe(40, 100));
    now = 30;
    send(flv.interframe(80, 100));
    now = 60;
    const queued = 2 * encodeFlvTag(flv.interframe(0, 100)).length;
    expect(conn.stats()).toMatchObject({ queuedBytes: queued + KERNEL_FULL, lagMs: 60, state: 'live' });
    expect(conn.mediaLagMs).toBe(80);
    await new Promise((r) => setTimeout(r, 20));
    expect(downstream.tags).toHaveLength(1);

    conn.onKernelQueue(0);
    await waitFor(() => downstream.tags.length === 3, { timeoutMs: 5000, intervalMs: 5 });
    expect(downstream.seen).toEqual(['k@0', 'i@40', 'i@80']);
    expect(conn.stats()).toMatchObject({ queuedBytes: 0, lagMs: 0, droppedTags: 0 });
    expect(conn.mediaLagMs).toBe(0);
  });

  it('past the byte bound drops the queue and skips to the next keyframe, passing headers on', async () => {
    open().start([flv.keyframe(0)]);
    conn.onKernelQueue(KERNEL_FULL);
    send(flv.interframe(40, 400));
    send(flv.interframe(80, 400));
    expect(cutbacks).toEqual([]);
    send(flv.interframe(120, 400)); // 3 × 415 bytes > 1000
    expect(cutbacks).toEqual([{ why: '1245 bytes queued (bound 1000)', dropped: 3 }]);
    expect(conn.stats()).toMatchObject({ state: 'lagging', droppedTags: 3 });

    conn.onKernelQueue(0);
    send(flv.interframe(160));
    send(flv.audio(170));
    send(flv.videoHeader(180));
    send(flv.keyframe(200));
    send(flv.interframe(240));
    await waitFor(() => downstream.tags.length === 4, { timeoutMs: 5000, intervalMs: 5 });
    expect(downstream.seen).toEqual(['k@0', 'vh', 'k@200', 'i@240']);
    expect(conn.stats()).toMatchObject({ state: 'live', droppedTags: 5 });
    expect(closes).toEqual([]);
  });

  it('past the time bound (the oldest queued tag older than maxLagMs) cuts back too', () => {
    open().start([]);
    conn.onKernelQueue(KERNEL_FULL);
    send(flv.keyframe(0));
    now = 100;
    send(flv.interframe(40));
    expect(cutbacks).toEqual([]); // exactly at the bound is not past it
    now = 101;
    send(flv.interframe(80));
    expect(cutbacks).toEqual([{ why: '101 ms behind live (bound 100 ms)', dropped: 3 }]);
  });

  it('a probe of the kernel queue alone finds a queue past the time bound', () => {
    open().start([]);
    conn.onKernelQueue(KERNEL_FULL);
    send(flv.keyframe(0));
    now = 150;
    conn.onKernelQueue(KERNEL_FULL);
    expect(cutbacks).toEqual([{ why: '150 ms behind live (bound 100 ms)', dropped: 1 }]);
  });

  it('a second cut-back within the window disconnects the downstream as lagging', async () => {
    open().start([]);
    conn.onKernelQueue(KERNEL_FULL);
    for (const ts of [0, 40, 80]) send(flv.interframe(ts, 400));
    expect(cutbacks).toHaveLength(1);
    now = 999;
    for (const ts of [1000, 1040, 1080]) send(flv.keyframe(ts, 400));
    expect(cutbacks).toHaveLength(1);
    expect(closes).toEqual([
      { reason: 'lagging: 1245 bytes queued (bound 1000), 2 times within 1 s', kind: 'lagging' },
    ]);
    expect(conn.closeReason).toMatch(/^lagging/);
    expect(conn.stats().state).toBe('closed');
    await once(pair.client, 'close');
    send(flv.keyframe(2000)); // ignored after the close
    expect(closes).toHaveLength(1);
  });

  it('cut-backs further apart than the window do not disconnect', () => {
    open().start([]);
    conn.onKernelQueue(KERNEL_FULL);
    for (const ts of [0, 40, 80]) send(flv.interframe(ts, 400));
    now = 1000;
    for (const ts of [1000, 1040, 1080]) send(flv.keyframe(ts, 400));
    expect(cutbacks).toHaveLength(2);
    expect(closes).toEqual([]);
  });

  it('closeWithReason sends the close tag ahead of what is queued, then ends the connection', async () => {
    open().start([flv.keyframe(0)]);
    await waitFor(() => downstream.tags.length === 1, { timeoutMs: 5000, intervalMs: 5 });
    conn.onKernelQueue(KERNEL_FULL);
    send(flv.interframe(40));
    conn.closeWithReason('ticket revoked');
    await waitFor(() => downstream.ended, { timeoutMs: 5000, intervalMs: 5 });
    expect(downstream.seen).toEqual(['k@0', 'close:ticket revoked']);
    expect(downstream.tags[1].timestamp).toBe(40);
    expect(closes).toEqual([{ reason: 'ticket revoked', kind: 'graceful' }]);
    await conn.closed$(1000);
    expect(pair.server.destroyed).toBe(true);
  });

  it('reports a downstream that hung up as gone', async () => {
    open().start([flv.keyframe(0)]);
    await waitFor(() => downstream.tags.length === 1, { timeoutMs: 5000, intervalMs: 5 });
    pair.client.end();
    await waitFor(() => closes.length > 0, { timeoutMs: 5000, intervalMs: 5 });
    expect(closes).toEqual([{ reason: 'downstream closed the connection', kind: 'gone' }]);
  });

  it('reports a downstream connection reset as failed', async () => {
    open().start([flv.keyframe(0)]);
    await waitFor(() => downstream.tags.length === 1, { timeoutMs: 5000, intervalMs: 5 });
    pair.client.resetAndDestroy();
    await waitFor(() => closes.length > 0, { timeoutMs: 5000, intervalMs: 5 });
    expect(closes).toEqual([{ reason: 'downstream connection failed', kind: 'gone' }]);
  });

  it('waits for the upload budget when it is used up, and sends once the clock has refilled it', async () => {
    // 8 Mbit/s: 1000 bytes per ms, a burst of 100 000 bytes.
    const budget = new UploadBudget(8_000_000, () => now);
    const big: ForwardLimits = { ...limits, maxQueueBytes: 1_000_000, maxLagMs: 60_000 };
    conn = new ForwardConnection('ticket-1', 'node-1', pair.server, budget, big, () => now);
    conn.start([]);
    const wire = encodeFlvTag(flv.keyframe(0, 20_000));
    for (let i = 0; i < 6; i++) conn.deliver(flv.keyframe(i * 40, 20_000), wire);
    await waitFor(() => downstream.tags.length === 4, { timeoutMs: 5000, intervalMs: 5 });
    await new Promise((r) => setTimeout(r, 30));
    expect(downstream.tags).toHaveLength(4); // 13 + 4 × 20 015 bytes of the burst; the fifth waits
    expect(budget.contended).toBe(true);
    now += 50; // 50 000 more bytes of budget
    await waitFor(() => downstream.tags.length === 6, { timeoutMs: 5000, intervalMs: 5 });
    expect(budget.grantedBytes).toBe(downstream.bytes);
    budget.close();
  });
});
