import type { PlayUrls } from '@astral/contracts';
import { renderTable } from '../output';

/** One node of the demo network as the summary shows it (and `--json` prints it). */
export interface DemoNodeSummary {
  node: string;
  nodeId: string;
  apiUrl: string;
  uploadLimit: string;
  upstream: string;
  hops: number;
  receiving: boolean;
  play: PlayUrls;
}

export interface DemoSummary {
  directoryUrl: string;
  streamId: string;
  logDir: string;
  /** The source node's data directory, where the CLI reads its API token. */
  sourceDataDir: string;
  nodes: DemoNodeSummary[];
}

/**
 * What `astral demo` prints once its network plays: where to look (the directory, the stream page, the network
 * view), each node's play URLs, and commands to try against the last node (the deepest in the tree) and the
 * directory's placed play URLs.
 */
export function renderDemoSummary(d: DemoSummary): string[] {
  const last = d.nodes[d.nodes.length - 1];
  const placed = `${d.directoryUrl}/streams/${d.streamId}`;
  return [
    '',
    `Directory:  ${d.directoryUrl}/`,
    `Stream:     ${d.streamId}   (${d.directoryUrl}/api/streams)`,
    `Watch:      ${placed}   (a browser, placed on a node with room; FLV, LL-HLS or HLS)`,
    `Network:    ${d.directoryUrl}/network   (the live network view)`,
    `Logs:       ${d.logDir}`,
    // Two play URLs a node keep the table within a terminal; RTMP and plain HLS of each are in --json.
    renderTable(
      ['node', 'upload limit', 'upstream', 'hops', 'playing', 'HTTP-FLV', 'LL-HLS'],
      d.nodes.map((s) => [
        s.node,
        s.uploadLimit,
        s.upstream,
        s.hops,
        s.receiving ? 'yes' : 'NO',
        s.play.httpFlv,
        s.play.llHls,
      ]),
    ),
    `Each node also plays RTMP (rtmp://<host>:<rtmp port>/live/${d.streamId}) and plain HLS (…/live/${d.streamId}/index.m3u8); --json lists every URL.`,
    'Try:',
    `  ffplay ${placed}/play.flv   # the directory places the player`,
    `  ffplay ${placed}/play.m3u8   # HLS, placed (?ll=1: LL-HLS); VLC and Safari play it too`,
    `  ffplay -fflags nobuffer ${last.play.rtmp}`,
    `  ffplay ${last.play.httpFlv}`,
    `  ffplay ${last.play.llHls}   # LL-HLS from the last node`,
    `  ffplay ${last.play.hls}   # plain HLS (VLC, TVs)`,
    `  ffprobe -v error -show_entries stream=codec_type,codec_name -of json ${last.play.httpFlv}`,
    `  npx astral publish fixtures/sample.flv --to ${d.nodes[0].apiUrl} --data-dir ${d.sourceDataDir} --title "my stream"`,
    `  curl ${d.nodes[0].apiUrl}/api/status`,
  ];
}
