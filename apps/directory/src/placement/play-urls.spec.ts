import { nodePlayUrls } from './play-urls';

const node = { host: '10.0.0.2', rtmpPort: 1935, httpPort: 8000 };

describe(nodePlayUrls.name, () => {
  it('spells every play URL of a node, the play token on each', () => {
    expect(nodePlayUrls('my-show', node, 'abc.def')).toEqual({
      rtmp: 'rtmp://10.0.0.2:1935/live/my-show?play=abc.def',
      flv: 'http://10.0.0.2:8000/live/my-show.flv?play=abc.def',
      ws: 'ws://10.0.0.2:8000/live/my-show.flv?play=abc.def',
      hls: 'http://10.0.0.2:8000/live/my-show/index.m3u8?play=abc.def',
      llHls: 'http://10.0.0.2:8000/live/my-show/ll.m3u8?play=abc.def',
    });
  });

  it('leaves the query out without a token, and brackets IPv6 hosts', () => {
    expect(nodePlayUrls('abc', { ...node, host: '::1' })).toEqual({
      rtmp: 'rtmp://[::1]:1935/live/abc',
      flv: 'http://[::1]:8000/live/abc.flv',
      ws: 'ws://[::1]:8000/live/abc.flv',
      hls: 'http://[::1]:8000/live/abc/index.m3u8',
      llHls: 'http://[::1]:8000/live/abc/ll.m3u8',
    });
  });

  it('encodes what a stream id must not carry into a path', () => {
    expect(nodePlayUrls('a/b?c', node).hls).toBe('http://10.0.0.2:8000/live/a%2Fb%3Fc/index.m3u8');
  });
});
