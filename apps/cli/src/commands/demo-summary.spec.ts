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

  it("lists every node's HTTP-FLV and LL-HLS URLs, and the last node's RTMP and plain HLS", () => {
    for (const p of [play(7411), play(7421)])
      for (const url of [p.httpFlv, p.llHls]) expect(text).toContain(url);
    for (const url of urls(play(7421))) expect(text).toContain(url);
    expect(text).toMatch(/│ HTTP-FLV +│ LL-HLS +│/);
    // Within a terminal: no line of the table is wider than 200 columns.
    for (const line of lines.join('\n').split('\n')) expect(line.length).toBeLessThanOrEqual(200);
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
