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
