import { PLAY_TOKEN_PARAM, hlsPlaylistPath, llHlsPlaylistPath } from '@astral/contracts';
import { urlHost } from '@astral/config';

/** Where a node plays a stream: its RTMP, HTTP-FLV (and the same over WebSocket), HLS and LL-HLS URLs. */
export interface NodePlayUrls {
  rtmp: string;
  flv: string;
  ws: string;
  hls: string;
  llHls: string;
}

/**
 * A node's play URLs for a stream, the one place the directory spells them: the placement's candidates (with the
 * play token the directory signed for that node) and the stream page's list of carriers (without: a node whose
 * players need a token refuses those, the page's player uses the placement's).
 */
export function nodePlayUrls(
  streamId: string,
  node: { host: string; rtmpPort: number; httpPort: number },
  token?: string,
): NodePlayUrls {
  const host = urlHost(node.host);
  const id = encodeURIComponent(streamId);
  const q = token === undefined ? '' : `?${PLAY_TOKEN_PARAM}=${encodeURIComponent(token)}`;
  const http = `${host}:${node.httpPort}`;
  return {
    rtmp: `rtmp://${host}:${node.rtmpPort}/live/${id}${q}`,
    flv: `http://${http}/live/${id}.flv${q}`,
    ws: `ws://${http}/live/${id}.flv${q}`,
    hls: `http://${http}${hlsPlaylistPath(id)}${q}`,
    llHls: `http://${http}${llHlsPlaylistPath(id)}${q}`,
  };
}
