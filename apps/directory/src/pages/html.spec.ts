import { StreamInfo } from '@astral/contracts';
import { escapeHtml, html, playUrls, renderStreamPage, renderStreamsPage } from './html';

const stream: StreamInfo = {
  streamId: 'my-show-3f9a2c',
  title: '<script>alert("x")</script>',
  description: "it's & more",
  sourceNodeId: '6f1c1f7e-3b4a-4c1e-9d55-2f7f8b1f3a10',
  status: 'live',
  bitrateBps: 2_500_000,
  createdAt: '2024-01-01T00:00:00.000Z',
  startedAt: null,
  endedAt: null,
  viewers: 0,
  carriers: 0,
  width: null,
  height: null,
  freeCapacityBps: null,
  needsCapacity: false,
  hasPreview: false,
};

describe(escapeHtml.name, () => {
  it('escapes the five special characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;',
    );
  });
});

describe(html.name, () => {
  it('escapes values but not nested html', () => {
    expect(html`<p>${'<b>'}${html`<i>ok</i>`}${['<', html`<br />`]}</p>`.text).toBe(
      '<p>&#60;b&#62;<i>ok</i>&#60;<br /></p>',
    );
  });
});

describe(renderStreamPage.name, () => {
  it('escapes the title and lists play URLs', () => {
    const sut = renderStreamPage(stream, [
      {
        nodeId: 'n1',
        hops: 0,
        ...playUrls(stream.streamId, { host: '10.0.0.1', rtmpPort: 1935, httpPort: 8000 }),
      },
    ]);
    expect(sut).not.toContain('<script>alert');
    expect(sut).toContain('&#60;script&#62;');
    expect(sut).toContain('rtmp://10.0.0.1:1935/live/my-show-3f9a2c');
    expect(sut).toContain('http://10.0.0.1:8000/live/my-show-3f9a2c.flv');
  });
});

describe(`${renderStreamPage.name}'s player`, () => {
  const carrier = (nodeId: string) => ({
    nodeId,
    hops: 1,
    ...playUrls(stream.streamId, { host: '10.0.0.2', rtmpPort: 1935, httpPort: 8000 }),
  });
  const playerData = (page: string): unknown => {
    const m = /<script type="application\/json" id="astral-play">([\s\S]*?)<\/script>/.exec(page);
    if (!m) throw new Error('the page has no astral-play data block');
    return JSON.parse(m[1]) as unknown;
  };

  it('loads its scripts from /assets and has no inline code', () => {
    const sut = renderStreamPage(stream, [carrier('n1')]);
    const scripts = sut.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts).toEqual([
      '<script type="application/json" id="astral-play">',
      '<script src="/assets/mpegts.js">',
      '<script src="/assets/stream-player.js">',
    ]);
  });

  it('passes the stream id and the carriers as JSON that no value can close', () => {
    const sut = renderStreamPage(stream, [
      carrier('n1'),
      carrier('</script><script>alert(1)</script>\u2028'),
    ]);
    expect(sut.match(/<\/script>/g)).toHaveLength(3);
    expect(playerData(sut)).toEqual({
      streamId: 'my-show-3f9a2c',
      carriers: [
        { nodeId: 'n1', hops: 1, flv: 'http://10.0.0.2:8000/live/my-show-3f9a2c.flv' },
        {
          nodeId: '</script><script>alert(1)</script>\u2028',
          hops: 1,
          flv: 'http://10.0.0.2:8000/live/my-show-3f9a2c.flv',
        },
      ],
    });
  });

  it('is left out for an ended stream', () => {
    const sut = renderStreamPage({ ...stream, status: 'ended' }, []);
    expect(sut).toContain('This stream has ended.');
    expect(sut).not.toContain('<script');
  });
});

describe(renderStreamsPage.name, () => {
  it('keeps the search text inside the attribute', () => {
    const sut = renderStreamsPage({ items: [stream], total: 1, page: 1, pageSize: 50 }, '"><script>');
    expect(sut).toContain('value="&#34;&#62;&#60;script&#62;"');
    expect(sut).toContain('href="/streams/my-show-3f9a2c"');
  });
});

describe(playUrls.name, () => {
  it('brackets IPv6 hosts', () => {
    expect(playUrls('abc', { host: '::1', rtmpPort: 1935, httpPort: 8000 })).toEqual({
      rtmp: 'rtmp://[::1]:1935/live/abc',
      flv: 'http://[::1]:8000/live/abc.flv',
    });
  });
});
