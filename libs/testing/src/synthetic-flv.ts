import { createServer, Socket, connect } from 'node:net';
import { once } from 'node:events';
import { FlvTag, FlvTagType } from '@astral/media';

/**
 * Synthetic FLV tags for unit specs: the few bytes the relay reads (frame type, codec id, packet type)
 * followed by zero padding up to `size`. Not decodable video; enough for keyframe and header logic.
 */
function tag(type: FlvTagType, timestamp: number, head: number[], size = 16): FlvTag {
  const data = Buffer.alloc(Math.max(size, head.length));
  Buffer.from(head).copy(data);
  return { type, timestamp, streamId: 0, data };
}

const HVC1 = [...Buffer.from('hvc1', 'latin1')];

/** A real HEVCDecoderConfigurationRecord: what libx265 writes for 320x240 Main 4:2:0 (VPS, SPS, PPS; its SEI left out). */
export const X265_HVCC_320X240 = Buffer.from(
  '0101600000009000000000003cf000fcfdf8f800000f03' +
    'a0000100184001' +
    '0c01ffff01600000030090000003000003003c959809' +
    'a10001002a' +
    '42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003210' +
    'a2000100074401c172b46240',
  'hex',
);

export const syntheticFlv = {
  metadata: (): FlvTag => tag(FlvTagType.Script, 0, [0x02, 0x00, 0x0a, ...Buffer.from('onMetaData'), 0x08]),
  videoHeader: (ts = 0): FlvTag => tag(FlvTagType.Video, ts, [0x17, 0x00, 0, 0, 0]),
  audioHeader: (ts = 0): FlvTag => tag(FlvTagType.Audio, ts, [0xaf, 0x00, 0x12, 0x10], 4),
  keyframe: (ts: number, size = 16): FlvTag => tag(FlvTagType.Video, ts, [0x17, 0x01, 0, 0, 0], size),
  interframe: (ts: number, size = 16): FlvTag => tag(FlvTagType.Video, ts, [0x27, 0x01, 0, 0, 0], size),
  audio: (ts: number, size = 16): FlvTag => tag(FlvTagType.Audio, ts, [0xaf, 0x01], size),
  /** Enhanced RTMP HEVC: IsExHeader | frame type << 4 | packet type, then the FourCC 'hvc1'. */
  hevcHeader: (ts = 0): FlvTag => tag(FlvTagType.Video, ts, [0x90, ...HVC1]),
  hevcKeyframe: (ts: number, size = 16): FlvTag => tag(FlvTagType.Video, ts, [0x91, ...HVC1, 0, 0, 0], size),
  hevcInterframe: (ts: number, size = 16): FlvTag => tag(FlvTagType.Video, ts, [0xa3, ...HVC1], size),
  hevcEnd: (ts: number): FlvTag => tag(FlvTagType.Video, ts, [0x92, ...HVC1], 5),
};

/** A connected TCP pair on loopback: `server` is the accepted side, `client` the connecting one. */
export async function socketPair(): Promise<{ server: Socket; client: Socket; close(): void }> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const address = listener.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  const [[server]] = await Promise.all([accepted, once(client, 'connect')]);
  listener.close();
  return {
    server,
    client,
    close: () => {
      client.destroy();
      server.destroy();
    },
  };
}
