import { mediaHeaders, playlistCacheControl, retryAfterS, sliceChunks } from './hls-headers';

describe(playlistCacheControl.name, () => {
  it('caches a plain playlist half a target (at least 1 s), LL not at all, LL blocking 6 targets', () => {
    expect(playlistCacheControl('plain', false, 2)).toBe('public, max-age=1');
    expect(playlistCacheControl('plain', false, 1)).toBe('public, max-age=1');
    expect(playlistCacheControl('plain', false, 6)).toBe('public, max-age=3');
    expect(playlistCacheControl('plain', true, 6)).toBe('public, max-age=3');
    expect(playlistCacheControl('ll', false, 2)).toBe('no-cache');
    expect(playlistCacheControl('ll', true, 2)).toBe('public, max-age=12');
  });
});

describe(mediaHeaders.name, () => {
  it('names the type per kind, immutable caching, and the range of a 206', () => {
    expect(mediaHeaders('init', 700, null)).toMatchObject({
      'Content-Type': 'video/mp4',
      'Cache-Control': 'public, max-age=31536000, immutable',
      'Content-Length': 700,
      'Access-Control-Allow-Origin': '*',
    });
    const h = mediaHeaders('part', 100, { start: 0, end: 1 });
    expect(h).toMatchObject({
      'Content-Type': 'video/iso.segment',
      'Content-Length': 2,
      'Content-Range': 'bytes 0-1/100',
    });
    expect(mediaHeaders('segment', 100, null)['Content-Range']).toBeUndefined();
  });

  it('asks for a retry after half a target, at least 1 s', () => {
    expect(retryAfterS(1)).toBe(1);
    expect(retryAfterS(5)).toBe(3);
  });
});

describe(sliceChunks.name, () => {
  it('slices across chunk boundaries without copying', () => {
    const chunks = [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('hi')];
    const text = (start: number, end: number) => Buffer.concat(sliceChunks(chunks, start, end)).toString();
    expect(text(0, 8)).toBe('abcdefghi');
    expect(text(0, 1)).toBe('ab');
    expect(text(2, 3)).toBe('cd');
    expect(text(3, 6)).toBe('defg');
    expect(text(8, 8)).toBe('i');
    expect(sliceChunks(chunks, 1, 1)[0].buffer).toBe(chunks[0].buffer);
  });
});
