import { PlayUrls, hlsPlaylistPath, llHlsPlaylistPath } from '@astral/contracts';
import { NodeConfig, urlHost } from '@astral/config';

type UrlConfig = Pick<NodeConfig, 'host' | 'rtmpPort' | 'httpPort'>;

/** Where a player on the network gets a stream this node carries. */
export function playUrls(config: UrlConfig, streamId: string): PlayUrls {
  const h = urlHost(config.host);
  return {
    rtmp: `rtmp://${h}:${config.rtmpPort}/live/${streamId}`,
    httpFlv: `http://${h}:${config.httpPort}/live/${streamId}.flv`,
    hls: `http://${h}:${config.httpPort}${hlsPlaylistPath(streamId)}`,
    llHls: `http://${h}:${config.httpPort}${llHlsPlaylistPath(streamId)}`,
  };
}
