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
