import { Socket } from 'node:net';
import { once } from 'node:events';
import pino from 'pino';
import { FlvParser, FlvTag, clockTag, encodeFlvHeader, encodeFlvTag, isClockTag } from '@astral/media';
import { socketPair, syntheticFlv as flv, waitFor } from '@astral/testing';
import { StreamHub } from '../hub/stream-hub';
import { HubPlayer, HubPlayerRoster, PlayerWire } from './hub-player';
import type { PlayerLease } from './player-budget';

/** The player's end of the pair: every byte it reads, and the tags in them. */
class Viewer {
  readonly parser = new FlvParser();
  readonly tags: FlvTag[] = [];
  readonly chunks: Buffer[] = [];
  ended = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.tags.push(...this.parser.push(chunk));
    });
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.ended = true));
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A lease that records what it was charged and whether it was released. */
function recordingLease(): PlayerLease & { charged: number; released: boolean } {
  const lease = {
    streamId: 's1',
    counted: true,
    placed: false,
    admittedBps: 0,
    charged: 0,
    released: false,
    sent: (bytes: number) => {
      lease.charged += bytes;
    },
    release: () => {
      lease.released = true;
    },
  };
  return lease;
}

/** The wire of an HTTP-FLV player, on the server side of the pair, as the listener builds it. */
function socketWire(socket: Socket): PlayerWire {
  return {
    queuedBytes: () => socket.writableLength,
    write: (b) => socket.write(b),
    cork: () => socket.cork(),
    uncork: () => socket.uncork(),
    end: () => socket.end(() => socket.destroy()),
    destroy: () => socket.destroy(),
    onClose: (fn) => socket.once('close', fn),
  };
}

describe('HubPlayer', () => {
  const pairs: Awaited<ReturnType<typeof socketPair>>[] = [];
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });

  const open = async (
    hub: StreamHub,
    opts: { clock?: boolean; maxQueuedBytes?: number; maxCutbackMs?: number } = {},
  ): Promise<{
    viewer: Viewer;
    lease: ReturnType<typeof recordingLease>;
    player: HubPlayer;
    server: Socket;
  }> => {
    const pair = await socketPair();
    pairs.push(pair);
    const lease = recordingLease();
    const player = new HubPlayer(socketWire(pair.server), {
      kind: 'HTTP-FLV',
      remote: '127.0.0.1:1',
      streamPath: '/live/s1',
      wantsClock: opts.clock ?? false,
      lease,
      limits: {
        maxQueuedBytes: opts.maxQueuedBytes ?? 8 * 1024 * 1024,
        maxCutbackMs: opts.maxCutbackMs ?? 5_000,
      },
      log,
    });
    player.start(hub);
    return { viewer: new Viewer(pair.client), lease, player, server: pair.server };
  };

  afterEach(() => {
    for (const p of pairs.splice(0)) p.close();
    warnings.length = 0;
  });

  it('writes the FLV header, the join sequence, then live tags, byte for byte the hub’s wire buffers', async () => {
    const hub = new StreamHub('s1', 'upstream');
    const join = [flv.metadata(), flv.videoHeader(), flv.audioHeader(), flv.keyframe(0), flv.audio(10)];
    for (const t of join) hub.ingest(t, 0);
    const { viewer, lease } = await open(hub);
    const live = [flv.interframe(40), flv.audio(50), flv.keyframe(80)];
    for (const t of live) hub.ingest(t, 0);
    const expected = Buffer.concat([
      encodeFlvHeader(true, true),
      ...[...join, ...live].map((t) => encodeFlvTag(t)),
    ]);
    await waitFor(() => viewer.bytes.length >= expected.length, { timeoutMs: 5000, intervalMs: 5 });
    expect(viewer.bytes.equals(expected)).toBe(true);
    expect(lease.charged).toBe(expected.length);
  });

  it('sends the live tags a hub delivers as the very buffers it was given, not a new encoding', async () => {
    const hub = new StreamHub('s1', 'publish');
    const { viewer } = await open(hub);
    const tag = flv.keyframe(0);
    const wire = encodeFlvTag(tag);
    wire[8] = 0x7f; // a stream-id byte encodeFlvTag would not write: only the given buffer carries it
    hub.ingest(tag, 0, wire);
    await waitFor(() => viewer.tags.length === 1, { timeoutMs: 5000, intervalMs: 5 });
    expect(viewer.bytes.subarray(13).equals(wire)).toBe(true);
  });

  it('leaves the onAstralClock stamps out for a player that did not ask; its twin with ?clock=1 gets them', async () => {
    const hub = new StreamHub('s1', 'publish');
    const plain = await open(hub);
    const clocked = await open(hub, { clock: true });
    hub.ingest(flv.keyframe(0), 0);
    hub.ingest(clockTag(0, 1_700_000_000_000), 0);
    hub.ingest(flv.interframe(40), 0);
    await waitFor(() => plain.viewer.tags.length === 2 && clocked.viewer.tags.length === 3, {
      timeoutMs: 5000,
      intervalMs: 5,
    });
    expect(plain.viewer.tags.some(isClockTag)).toBe(false);
    expect(clocked.viewer.tags.filter(isClockTag)).toHaveLength(1);
  });

  it('skips audio and video tags too short to decode; the next good tag still arrives', async () => {
    const hub = new StreamHub('s1', 'upstream');
    const { viewer } = await open(hub);
    const short = { ...flv.interframe(40), data: Buffer.from([0x27, 0x01]) };
    hub.ingest(short, 0);
    const good = flv.interframe(80);
    hub.ingest(good, 0);
    await waitFor(() => viewer.tags.length === 1, { timeoutMs: 5000, intervalMs: 5 });
    expect(viewer.tags[0].data.equals(good.data)).toBe(true);
  });

  it('ends the connection when the stream ends, after what was queued, and releases its lease', async () => {
    const hub = new StreamHub('s1', 'upstream');
    const { viewer, lease } = await open(hub);
    hub.ingest(flv.keyframe(0, 200_000), 0);
    hub.close('the node stopped watching');
    await waitFor(() => viewer.ended, { timeoutMs: 5000, intervalMs: 5 });
    expect(viewer.tags).toHaveLength(1);
    expect(lease.released).toBe(true);
    expect(hub.consumerCount).toBe(0);
  });

  it('a player that leaves is detached from the hub and its lease released', async () => {
    const hub = new StreamHub('s1', 'upstream');
    const { viewer, lease, server } = await open(hub);
    const other = await open(hub);
    expect(hub.consumerCount).toBe(2);
    viewer.socket.destroy();
    await once(server, 'close');
    expect(lease.released).toBe(true);
    expect(hub.consumerCount).toBe(1);
    expect(other.lease.released).toBe(false);
  });

  it('cuts back, then disconnects a player that stops reading, with the reasons logged; a reading twin keeps every tag', async () => {
    const hub = new StreamHub('s1', 'upstream');
    const limits = { maxQueuedBytes: 256 * 1024, maxCutbackMs: 300 };
    const stuck = await open(hub, limits);
    const reading = await open(hub, limits);
    stuck.viewer.socket.pause();
    let sent = 0;
    for (let i = 0; i < 2000 && !stuck.server.destroyed; i++) {
      hub.ingest(i % 10 === 0 ? flv.keyframe(i * 40, 64 * 1024) : flv.interframe(i * 40, 64 * 1024), 0);
      sent += 1;
      await new Promise((r) => setImmediate(r)); // one tag per turn, as a live stream comes
      await waitFor(() => reading.viewer.tags.length === sent, { timeoutMs: 5000, intervalMs: 1 });
    }
    expect(stuck.server.destroyed).toBe(true);
    expect(stuck.lease.released).toBe(true);
    expect(warnings.some((l) => l.includes('HTTP-FLV player lagging: cut back to the next keyframe'))).toBe(
      true,
    );
    expect(warnings.some((l) => l.includes('HTTP-FLV player disconnected'))).toBe(true);
    expect(reading.server.destroyed).toBe(false);
    expect(reading.viewer.tags).toHaveLength(sent);
  });
});

describe('HubPlayerRoster', () => {
  it('counts the players of each stream until each leaves', () => {
    const roster = new HubPlayerRoster();
    const a = roster.add('s1', {} as HubPlayer);
    const b = roster.add('s1', {} as HubPlayer);
    roster.add('s2', {} as HubPlayer);
    expect([roster.count('s1'), roster.count('s2'), roster.count('s3')]).toEqual([2, 1, 0]);
    a();
    a();
    expect(roster.count('s1')).toBe(1);
    b();
    expect(roster.count('s1')).toBe(0);
  });
});
