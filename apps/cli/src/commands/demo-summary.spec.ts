import type { PlayUrls } from '@astral/contracts';
import { DemoNodeSummary, renderDemoSummary } from './demo-summary';

const play = (port: number, id = 'demo-1'): PlayUrls => ({
  rtmp: `rtmp://127.0.0.1:${port}/live/${id}`,
  httpFlv: `http://127.0.0.1:${port + 1}/live/${id}.flv`,
  hls: `http://127.0.0.1:${port + 1}/live/${id}/index.m3u8`,
  llHls: `http://127.0.0.1:${port + 1}/live/${id}/ll.m3u8`,
});
const urls = (p: PlayUrls): string[] => [p.rtmp, p.httpFlv, p.hls, p.llHls];
const node = (name: string, port: number, hops: number): DemoNodeSummary => ({
  node: name,
  nodeId: `${name}-id`,
  apiUrl: `http://127.0.0.1:${port - 1}`,
  uploadLimit: '4mbit',
  upstream: hops ? 'node1' : 'publisher',
  hops,
  receiving: true,
  play: play(port),
});

describe(renderDemoSummary.name, () => {
  const lines = renderDemoSummary({
    directoryUrl: 'http://127.0.0.1:7400',
    streamId: 'demo-1',
    logDir: '/tmp/logs',
    sourceDataDir: '/tmp/node1',
    nodes: [node('node1', 7411, 0), node('node2', 7421, 1)],
  });
  const text = lines.join('\n');

  it("lists every node's play URLs, HLS and LL-HLS included", () => {
    for (const url of [...urls(play(7411)), ...urls(play(7421))]) expect(text).toContain(url);
    expect(text).toMatch(/│ RTMP +│ HTTP-FLV +│ HLS +│ LL-HLS +│/);
  });

  it("offers the directory's placed FLV and HLS URLs and the last node's", () => {
    expect(lines).toContain(
      '  ffplay http://127.0.0.1:7400/streams/demo-1/play.flv   # the directory places the player',
    );
    expect(text).toContain(
      'ffplay http://127.0.0.1:7400/streams/demo-1/play.m3u8   # HLS, placed (?ll=1: LL-HLS)',
    );
    expect(text).toContain(`ffplay ${play(7421).llHls}`);
    expect(text).toContain('--to http://127.0.0.1:7410 --data-dir /tmp/node1');
    expect(lines[3]).toBe(
      'Watch:      http://127.0.0.1:7400/streams/demo-1   (a browser, placed on a node with room; FLV, LL-HLS or HLS)',
    );
  });
});
