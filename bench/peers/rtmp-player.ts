import { randomBytes } from 'node:crypto';
import { Socket, connect } from 'node:net';
import { amfNull, amfNumber, amfObject, amfString } from '../lib/rtmp-chunks';

/**
 * The cheapest possible RTMP player, the RTMP twin of RawConsumer: simple handshake, then set chunk
 * size, connect, createStream and play sent in one write (pipelined; nginx-rtmp answers createStream
 * with stream id 1), acknowledgements every `ackWindow` bytes, and a byte count. It parses nothing, so
 * hundreds of them in one process do not make the player side the bottleneck.
 */

/** One message in one type-0 chunk (payloads here are below the chunk size we announce). */
function chunk(csid: number, type: number, streamId: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = csid & 0x3f;
  h.writeUIntBE(0, 1, 3);
  h.writeUIntBE(payload.length, 4, 3);
  h[7] = type;
  h.writeUInt32LE(streamId, 8);
  return Buffer.concat([h, payload]);
}

export class RtmpPlayer {
  bytes = 0;
  ended = false;
  /** Sees every byte after the handshake (e.g. an RtmpMessageClock), when set. */
  sink: ((data: Buffer) => void) | null = null;
  private socket: Socket | null = null;
  private acked = 0;

  constructor(
    readonly url: string,
    private readonly ackWindow = 2_500_000,
  ) {}

  static async open(url: string, timeoutMs = 10_000): Promise<RtmpPlayer> {
    const p = new RtmpPlayer(url);
    await p.open(timeoutMs);
    return p;
  }

  open(timeoutMs = 10_000): Promise<void> {
    const u = new URL(this.url);
    const [, app, ...rest] = u.pathname.split('/');
    const stream = rest.join('/');
    const tcUrl = `rtmp://${u.host}/${app}`;
    return new Promise((resolve, reject) => {
      const socket = connect(Number(u.port || 1935), u.hostname);
      this.socket = socket;
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no media from ${this.url} in ${timeoutMs} ms`));
      }, timeoutMs);
      let handshake = 0;
      let s1: Buffer | null = null;
      const pending: Buffer[] = [];
      socket.once('connect', () => {
        const c1 = Buffer.concat([Buffer.alloc(8), randomBytes(1528)]);
        socket.write(Buffer.concat([Buffer.from([0x03]), c1]));
      });
      socket.on('data', (data: Buffer) => {
        if (handshake < 3073) {
          pending.push(data);
          handshake += data.length;
          if (handshake < 3073) return;
          const all = Buffer.concat(pending);
          s1 = all.subarray(1, 1537);
          const setChunk = Buffer.alloc(4);
          setChunk.writeUInt32BE(4096);
          socket.write(
            Buffer.concat([
              s1, // C2 echoes S1
              chunk(2, 1, 0, setChunk),
              chunk(
                3,
                20,
                0,
                Buffer.concat([
                  amfString('connect'),
                  amfNumber(1),
                  amfObject({ app, flashVer: 'LNX 9,0,124,2', tcUrl }),
                ]),
              ),
              chunk(3, 20, 0, Buffer.concat([amfString('createStream'), amfNumber(2), amfNull()])),
              chunk(
                8,
                20,
                1,
                Buffer.concat([
                  amfString('play'),
                  amfNumber(0),
                  amfNull(),
                  amfString(stream),
                  amfNumber(-1000),
                ]),
              ),
            ]),
          );
          data = all.subarray(3073);
        }
        this.bytes += data.length;
        this.sink?.(data);
        if (this.bytes - this.acked >= this.ackWindow) {
          this.acked = this.bytes;
          const seq = Buffer.alloc(4);
          seq.writeUInt32BE(this.bytes % 2 ** 32);
          socket.write(chunk(2, 3, 0, seq));
        }
        // Past the command replies (a few hundred bytes): media is flowing.
        if (this.bytes > 8192) {
          clearTimeout(timer);
          resolve();
        }
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('close', () => {
        this.ended = true;
        clearTimeout(timer);
        reject(new Error('closed'));
      });
    });
  }

  close(): void {
    this.socket?.destroy();
  }
}
