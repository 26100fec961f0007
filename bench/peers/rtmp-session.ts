import { randomBytes } from 'node:crypto';
import { Socket, connect } from 'node:net';
import {
  RtmpChunkReader,
  RtmpMessage,
  amfName,
  amfNull,
  amfNumber,
  amfObject,
  amfString,
  encodeRtmpMessage,
  rtmpCommand,
} from '../lib/rtmp-chunks';

/**
 * One RTMP client connection that plays or publishes `rtmp://host:port/app/stream` (bench/peers/rtmp-player.ts
 * is the byte-counting twin; this one parses messages): simple handshake, Set Chunk Size 4096, then connect,
 * createStream and play/publish pipelined (nginx-rtmp and node-media-server both answer createStream with
 * stream id 1 on a fresh connection), acknowledgements as the server's window asks. Resolves once the server
 * says NetStream.Play.Start / NetStream.Publish.Start.
 */
export const RTMP_OUT_CHUNK_SIZE = 4096;
const STREAM_ID = 1;

export class RtmpSession {
  ended = false;
  bytesIn = 0;
  private readonly reader = new RtmpChunkReader();
  private socket: Socket | null = null;
  private ackWindow = 2_500_000;
  private acked = 0;

  private constructor(
    readonly url: string,
    private readonly onMessage: (m: RtmpMessage, arrivalMs: number) => void,
  ) {}

  static async open(
    url: string,
    mode: 'play' | 'publish',
    onMessage: (m: RtmpMessage, arrivalMs: number) => void = () => undefined,
    timeoutMs = 10_000,
  ): Promise<RtmpSession> {
    const s = new RtmpSession(url, onMessage);
    await s.start(mode, timeoutMs);
    return s;
  }

  /** Sends one media or data message on the published stream (fmt 0, chunks of RTMP_OUT_CHUNK_SIZE). */
  send(type: number, timestamp: number, payload: Buffer): boolean {
    const csid = type === 8 ? 4 : type === 9 ? 6 : 5;
    const buf = encodeRtmpMessage(
      { csid, type, streamId: STREAM_ID, timestamp, payload },
      RTMP_OUT_CHUNK_SIZE,
    );
    return this.socket?.write(buf) ?? false;
  }

  /** Resolves when the socket can take more (a publisher pacing in real time rarely waits). */
  drained(): Promise<void> {
    const s = this.socket;
    if (!s || !s.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      s.once('drain', resolve);
      s.once('close', resolve);
    });
  }

  close(): void {
    this.ended = true;
    this.socket?.destroy();
  }

  private start(mode: 'play' | 'publish', timeoutMs: number): Promise<void> {
    const u = new URL(this.url);
    const [, app, ...rest] = u.pathname.split('/');
    const stream = rest.join('/');
    const at = { csid: 3, streamId: 0, chunkSize: RTMP_OUT_CHUNK_SIZE };
    return new Promise((resolve, reject) => {
      const socket = connect(Number(u.port || 1935), u.hostname);
      this.socket = socket;
      socket.setNoDelay(true);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new Error(`no ${mode} start from ${this.url} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      let handshake = Buffer.alloc(0);
      let started = false;
      socket.once('connect', () =>
        socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(8), randomBytes(1528)])),
      );
      socket.on('data', (data: Buffer) => {
        const now = performance.now();
        if (handshake.length < 3073) {
          handshake = Buffer.concat([handshake, data]);
          if (handshake.length < 3073) return;
          const setChunk = Buffer.alloc(4);
          setChunk.writeUInt32BE(RTMP_OUT_CHUNK_SIZE);
          const verb =
            mode === 'play'
              ? rtmpCommand(
                  { ...at, csid: 8, streamId: STREAM_ID },
                  'play',
                  0,
                  amfNull(),
                  amfString(stream),
                  amfNumber(-1000),
                )
              : rtmpCommand(
                  { ...at, csid: 8, streamId: STREAM_ID },
                  'publish',
                  0,
                  amfNull(),
                  amfString(stream),
                  amfString('live'),
                );
          socket.write(
            Buffer.concat([
              handshake.subarray(1, 1537), // C2 echoes S1
              encodeRtmpMessage({ csid: 2, type: 1, streamId: 0, payload: setChunk }, 128),
              rtmpCommand(
                at,
                'connect',
                1,
                amfObject({ app, flashVer: 'LNX 9,0,124,2', tcUrl: `rtmp://${u.host}/${app}` }),
              ),
              rtmpCommand(at, 'createStream', 2, amfNull()),
              verb,
            ]),
          );
          data = handshake.subarray(3073);
        }
        this.bytesIn += data.length;
        let messages: RtmpMessage[];
        try {
          messages = this.reader.push(data);
        } catch (err) {
          fail(err as Error);
          return;
        }
        for (const m of messages) {
          if (m.type === 5 && m.payload.length >= 4) this.ackWindow = m.payload.readUInt32BE(0);
          if (m.type === 20 && amfName(m.payload) === 'onStatus') {
            const text = m.payload.toString('latin1');
            if (!started && /NetStream\.(Play|Publish)\.Start/.test(text)) {
              started = true;
              clearTimeout(timer);
              resolve();
            } else if (!started && /NetStream\.\w+\.(Failed|BadName|StreamNotFound)/.test(text))
              fail(new Error(`${this.url}: ${/NetStream\.[\w.]+/.exec(text)?.[0]}`));
          }
          this.onMessage(m, now);
        }
        if (this.bytesIn - this.acked >= this.ackWindow / 2) {
          this.acked = this.bytesIn;
          const seq = Buffer.alloc(4);
          seq.writeUInt32BE(this.bytesIn % 2 ** 32);
          socket.write(
            encodeRtmpMessage({ csid: 2, type: 3, streamId: 0, payload: seq }, RTMP_OUT_CHUNK_SIZE),
          );
        }
      });
      socket.once('error', (err) => fail(err));
      socket.once('close', () => {
        this.ended = true;
        fail(new Error(`${this.url}: closed`));
      });
    });
  }
}
