import { StreamInfo } from '@astral/contracts';
import { durationSince, resolutionText } from './format';
import { escapeHtml, html } from './html';
import { nodePlayUrls } from '../placement/play-urls';
import { renderStreamPage, renderTree } from './stream-page';
import { renderStreamsPage } from './streams-page';

const stream: StreamInfo = {
  streamId: 'my-show-3f9a2c',
  title: '<script>alert("x")</script>',
  description: "it's & more",
  sourceNodeId: '6f1c1f7e-3b4a-4c1e-9d55-2f7f8b1f3a10',
  status: 'live',
  bitrateBps: 2_500_000,
  createdAt: '2024-01-01T00:00:00.000Z',
  startedAt: '2024-01-01T00:00:00.000Z',
  endedAt: null,
  viewers: 7,
  carriers: 2,
  width: 1280,
  height: 720,
  freeCapacityBps: null,
  needsCapacity: false,
  hasPreview: false,
};
const NOW = Date.parse('2024-01-01T01:05:00.000Z');

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

const carrier = (nodeId: string, hops = 1) => ({
  nodeId,
  hops,
  ...nodePlayUrls(stream.streamId, { host: '10.0.0.2', rtmpPort: 1935, httpPort: 8000 }),
});

describe(renderStreamPage.name, () => {
  it('escapes the title, shows the facts and lists play URLs', () => {
    const sut = renderStreamPage(stream, [carrier('n1', 0)], 'http://127.0.0.1:7000', NOW);
    expect(sut).not.toContain('<script>alert');
    expect(sut).toContain('&#60;script&#62;');
    expect(sut).toContain('rtmp://10.0.0.2:1935/live/my-show-3f9a2c');
    expect(sut).toContain('http://10.0.0.2:8000/live/my-show-3f9a2c.flv');
    expect(sut).toContain('http://10.0.0.2:8000/live/my-show-3f9a2c/index.m3u8');
    expect(sut).toContain('http://10.0.0.2:8000/live/my-show-3f9a2c/ll.m3u8');
    expect(sut).toContain('/streams/my-show-3f9a2c/play.flv');
    expect(sut).toContain('href="/streams/my-show-3f9a2c/play.m3u8"');
    expect(sut).toContain('href="/streams/my-show-3f9a2c/play.m3u8?ll=1"');
    expect(sut).toContain('7 viewers');
    expect(sut).toContain('2.50 Mbit/s');
    expect(sut).toContain('1280×720');
    expect(sut).toContain('1 h 05 min');
    expect(sut).toContain('href="/network"');
  });

  it('loads its scripts from /assets and has no inline code', () => {
    const sut = renderStreamPage(stream, [carrier('n1')]);
    expect(sut.match(/<script\b[^>]*>/g) ?? []).toEqual([
      '<script type="application/json" id="astral-play">',
      '<script src="/assets/mpegts.js">',
      '<script src="/assets/own-node.js">',
      '<script src="/assets/stream-tree.js">',
      '<script src="/assets/stream-hls.js">',
      '<script src="/assets/stream-player.js">',
    ]);
    expect(sut).not.toMatch(/\son[a-z]+=/);
    expect(sut).not.toContain('<style');
  });

  it('offers the three players, FLV first', () => {
    const sut = renderStreamPage(stream, []);
    expect(sut.match(/<option value="[^"]+">[^<]+<\/option>/g)).toEqual([
      '<option value="flv">FLV (low latency)</option>',
      '<option value="ll-hls">LL-HLS</option>',
      '<option value="hls">HLS</option>',
    ]);
  });

  it('passes the stream id and the own node default as JSON that no value can close', () => {
    const sut = renderStreamPage({ ...stream, streamId: '</script><script>alert(1)</script>\u2028' }, []);
    const m = /<script type="application\/json" id="astral-play">([\s\S]*?)<\/script>/.exec(sut);
    expect(m).not.toBeNull();
    expect(JSON.parse(m![1])).toEqual({
      streamId: '</script><script>alert(1)</script>\u2028',
      ownNodeApi: 'http://127.0.0.1:7000',
    });
  });

  it('leaves the player out for an ended stream', () => {
    const sut = renderStreamPage({ ...stream, status: 'ended' }, []);
    expect(sut).toContain('This stream has ended.');
    expect(sut).not.toContain('<script');
  });
});

describe(renderTree.name, () => {
  it('draws the carriers level by level, source first, ids escaped', () => {
    const sut = renderTree([carrier('b<'), carrier('src', 0), carrier('c', 2), carrier('a')]).text;
    expect(sut.indexOf('source')).toBeLessThan(sut.indexOf('hop 1'));
    expect(sut.indexOf('hop 1')).toBeLessThan(sut.indexOf('hop 2'));
    expect(sut).toContain('data-node-id="b&#60;"');
    expect(sut.match(/data-hops=/g)).toHaveLength(3);
  });
});

describe(renderStreamsPage.name, () => {
  const page = (items: StreamInfo[]) => ({ items, total: items.length, page: 1, pageSize: 50 });

  it('keeps the search text inside the attribute', () => {
    const sut = renderStreamsPage(page([stream]), '"><script>');
    expect(sut).toContain('value="&#34;&#62;&#60;script&#62;"');
    expect(sut).toContain('href="/streams/my-show-3f9a2c"');
  });

  it('shows a live stream as a card with its facts, a placeholder until there is a preview', () => {
    const sut = renderStreamsPage(page([stream]), '', NOW);
    expect(sut).toContain('data-viewers="7"');
    expect(sut).toContain('2.50 Mbit/s');
    expect(sut).toContain('1280×720');
    expect(sut).toContain('live 1 h 05 min');
    expect(sut).toContain('No preview yet');
    expect(sut).not.toContain('<script');
  });

  it('shows the preview image and its refresher when the directory has one', () => {
    const sut = renderStreamsPage(page([{ ...stream, hasPreview: true }]), '', NOW);
    expect(sut).toContain('<img');
    expect(sut).toContain('src="/streams/my-show-3f9a2c/preview.jpg"');
    expect(sut.match(/<script\b[^>]*>/g)).toEqual(['<script src="/assets/stream-list.js">']);
  });

  it('lists ended and created streams below the live ones', () => {
    const ended = { ...stream, streamId: 'old-show-000001', title: 'Old', status: 'ended' as const };
    const sut = renderStreamsPage(page([ended, stream]), '', NOW);
    expect(sut.indexOf('my-show-3f9a2c')).toBeLessThan(sut.indexOf('old-show-000001'));
    expect(sut).toContain('Other streams');
  });
});

describe(durationSince.name, () => {
  it('is coarse and never negative', () => {
    expect(durationSince('2024-01-01T01:04:15.000Z', NOW)).toBe('45 s');
    expect(durationSince('2023-12-30T00:00:00.000Z', NOW)).toBe('2 d 1 h');
    expect(durationSince('2024-01-02T00:00:00.000Z', NOW)).toBe('—');
    expect(durationSince(null, NOW)).toBe('—');
    expect(resolutionText(null, 240)).toBe('—');
  });
});
