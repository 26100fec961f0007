import { Socket, connect } from 'node:net';

/**
 * Just enough RTMP to say things to a server on purpose, well-formed or not: the simple handshake, AMF0
 * values and type-0 chunks. For tests and the fuzzer; a real publisher is ffmpeg.
 */
export type Amf0 = number | string | boolean | null | undefined | { [k: string]: Amf0 };

export function encodeAmf0(value: Amf0): Buffer {
  if (value === undefined) return Buffer.from([0x06]);
  if (value === null) return Buffer.from([0x05]);
  if (typeof value === 'number') {
    const b = Buffer.alloc(9);
    b[0] = 0x00;
    b.writeDoubleBE(value, 1);
    return b;
  }
  if (typeof value === 'boolean') return Buffer.from([0x01, value ? 1 : 0]);
  if (typeof value === 'string') {
    const s = Buffer.from(value, 'utf8');
    const b = Buffer.alloc(3);
    b[0] = 0x02;
    b.writeUInt16BE(s.length, 1);
    return Buffer.concat([b, s]);
  }
  const parts: Buffer[] = [Buffer.from([0x03])];
  for (const [k, v] of Object.entries(value)) {
    const key = Buffer.from(k, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(key.length);
    parts.push(len, key, encodeAmf0(v));
  }
  parts.push(Buffer.from([0x00, 0x00, 0x09]));
  return Buffer.concat(parts);
}

/** An AMF0 command message body: name, transaction id, then the values given (a command object first, usually). */
export function amf0Command(name: string, transactionId: number, ...values: Amf0[]): Buffer {
  return Buffer.concat([encodeAmf0(name), encodeAmf0(transactionId), ...values.map(encodeAmf0)]);
}

/** One message as type-0 chunks of `chunkSize` (RTMP's default 128) on chunk stream `csid`. */
export function rtmpChunks(
  payload: Buffer,
  options: { type?: number; csid?: number; streamId?: number; timestamp?: number; chunkSize?: number } = {},
): Buffer {
  const { type = 20, csid = 3, streamId = 0, timestamp = 0, chunkSize = 128 } = options;
  const header = Buffer.alloc(12);
  header[0] = csid & 0x3f;
  header.writeUIntBE(Math.min(timestamp, 0xffffff), 1, 3);
  header.writeUIntBE(payload.length, 4, 3);
  header[7] = type;
  header.writeUInt32LE(streamId, 8);
  const parts: Buffer[] = [header];
  for (let off = 0; off < payload.length; off += chunkSize) {
    if (off > 0) parts.push(Buffer.from([0xc0 | (csid & 0x3f)]));
    parts.push(payload.subarray(off, off + chunkSize));
  }
  return Buffer.concat(parts);
}

/** C0 and C1 of the simple handshake. */
export function rtmpC0C1(): Buffer {
  const b = Buffer.alloc(1537);
  b[0] = 3;
  for (let i = 9; i < b.length; i += 1) b[i] = (i * 31) & 0xff;
  return b;
}

/** Connects and completes the handshake (C0C1, S0S1S2, C2); resolves with the socket, ready for chunks. */
export function rtmpHandshake(
  port: number,
  host = '127.0.0.1',
  timeoutMs = 5000,
): Promise<{ socket: Socket; received: () => Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no RTMP handshake answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (!done) reject(err);
    });
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      total += d.length;
      if (!done && total >= 3073) {
        done = true;
        clearTimeout(timer);
        const all = Buffer.concat(chunks);
        socket.write(all.subarray(1, 1537)); // C2 echoes S1
        chunks.length = 0;
        chunks.push(all.subarray(3073));
        resolve({ socket, received: () => Buffer.concat(chunks) });
      }
    });
    socket.on('connect', () => socket.write(rtmpC0C1()));
  });
}
