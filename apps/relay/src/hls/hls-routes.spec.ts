import { isHlsTarget, parseHlsTarget, parseRange } from './hls-routes';

const ok = (url: string) => {
  const t = parseHlsTarget(url);
  if (!t.ok) throw new Error(`${url}: ${t.message}`);
  return t.route;
};
const refused = (url: string) => {
  const t = parseHlsTarget(url);
  if (t.ok) throw new Error(`${url} was accepted`);
  return t;
};

describe(isHlsTarget.name, () => {
  it('takes /live/<x>/… and leaves FLV targets and everything else to the FLV routing', () => {
    expect(isHlsTarget('/live/show-1/index.m3u8')).toBe(true);
    expect(isHlsTarget('/live/show-1/abc123/s1.m4s?x=1')).toBe(true);
    expect(isHlsTarget('/live/../x/index.m3u8')).toBe(true); // then refused by the parser
    expect(isHlsTarget('/live/show-1.flv')).toBe(false);
    expect(isHlsTarget('/live/show-1.flv?a=/b')).toBe(false);
    expect(isHlsTarget('/other/show-1/index.m3u8')).toBe(false);
    expect(isHlsTarget('/live//')).toBe(false);
    expect(isHlsTarget(undefined)).toBe(false);
  });
});

describe(parseHlsTarget.name, () => {
  it('reads both playlists, with and without a blocking reload and a play token', () => {
    expect(ok('/live/show-1/index.m3u8')).toEqual({
      kind: 'playlist',
      streamId: 'show-1',
      playlist: 'plain',
      token: null,
    });
    expect(ok('/live/show-1/ll.m3u8?_HLS_msn=12&_HLS_part=3&play=tok.en')).toEqual({
      kind: 'playlist',
      streamId: 'show-1',
      playlist: 'll',
      msn: 12,
      part: 3,
      token: 'tok.en',
    });
    expect(ok('/live/show-1/ll.m3u8?_HLS_msn=0')).toEqual({
      kind: 'playlist',
      streamId: 'show-1',
      playlist: 'll',
      msn: 0,
      token: null,
    });
    // _HLS_skip and unknown parameters are ignored (no delta updates offered).
    expect(ok('/live/show-1/ll.m3u8?_HLS_msn=5&_HLS_skip=YES&cachebust=7')).toMatchObject({ msn: 5 });
  });

  it('reads the three media names under an epoch', () => {
    expect(ok('/live/show-1/ab12cd34/init0.mp4')).toMatchObject({
      media: 'init',
      name: 'init0.mp4',
      epoch: 'ab12cd34',
    });
    expect(ok('/live/show-1/ab12cd34/s2147483648.m4s')).toMatchObject({ media: 'segment' });
    expect(ok('/live/show-1/ab12cd34/p7.10000.m4s?play=t')).toMatchObject({
      media: 'part',
      name: 'p7.10000.m4s',
      token: 't',
    });
  });

  it('refuses malformed blocking parameters with 400 and a reason; the legitimate twin passes', () => {
    const cases: [string, RegExp][] = [
      ['_HLS_part=1', /without _HLS_msn/],
      ['_HLS_msn=-1', /decimal integer/],
      ['_HLS_msn=1e3', /decimal integer/],
      ['_HLS_msn=+1', /decimal integer/],
      ['_HLS_msn=012', /decimal integer/],
      ['_HLS_msn=', /decimal integer/],
      ['_HLS_msn=%201', /decimal integer/],
      ['_HLS_msn=2147483649', /at most 2147483648/],
      ['_HLS_msn=99999999999999999999', /decimal integer/],
      ['_HLS_msn=1&_HLS_part=10001', /at most 10000/],
      ['_HLS_msn=1&_HLS_part=x', /decimal integer/],
      ['_HLS_msn=1&_HLS_msn=2', /given 2 times/],
      ['play=a&play=b', /given 2 times/],
    ];
    for (const [query, reason] of cases) {
      const r = refused(`/live/show-1/ll.m3u8?${query}`);
      expect(r.status).toBe(400);
      expect(r.message).toMatch(reason);
    }
    expect(ok('/live/show-1/ll.m3u8?_HLS_msn=2147483648&_HLS_part=10000')).toMatchObject({
      msn: 2 ** 31,
      part: 10_000,
    });
  });

  it('refuses bad stream ids and epochs with 400, unknown names with 404', () => {
    expect(refused('/live/Show_1/index.m3u8')).toMatchObject({ status: 400, message: /stream id/ });
    expect(refused('/live/../index.m3u8')).toMatchObject({ status: 400 });
    expect(refused('/live/%73how/index.m3u8')).toMatchObject({ status: 400 });
    expect(refused(`/live/${'a'.repeat(65)}/index.m3u8`)).toMatchObject({ status: 400 });
    expect(refused('/live/show-1/ABCDEF12/s1.m4s')).toMatchObject({ status: 400, message: /epoch/ });
    expect(refused('/live/show-1/abc/s1.m4s')).toMatchObject({ status: 400 });
    expect(refused('/live/show-1/ab12cd34/s99999999999.m4s')).toMatchObject({ status: 404 });
    expect(refused('/live/show-1/ab12cd34/s2147483649.m4s')).toMatchObject({ status: 400 });
    expect(refused('/live/show-1/ab12cd34/p1.10001.m4s')).toMatchObject({ status: 400 });
    expect(refused('/live/show-1/master.m3u8')).toMatchObject({ status: 404 });
    expect(refused('/live/show-1/ab12cd34/s1.ts')).toMatchObject({ status: 404 });
    expect(refused('/live/show-1/ab12cd34/../../etc/passwd')).toMatchObject({ status: 404 });
    expect(refused('/live/show-1/ab12cd34/s1.m4s/x')).toMatchObject({ status: 404 });
    expect(refused('/live/show-1/')).toMatchObject({ status: 404 });
    expect(refused(`/live/show-1/index.m3u8?play=${'x'.repeat(5000)}`)).toMatchObject({ status: 400 });
  });
});

describe(parseRange.name, () => {
  it('serves one range, clamps its end, and ignores what it does not serve', () => {
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('bytes=0-1', 100)).toEqual({ start: 0, end: 1 });
    expect(parseRange('bytes=10-', 100)).toEqual({ start: 10, end: 99 });
    expect(parseRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
    expect(parseRange('items=0-1', 100)).toBeNull();
    expect(parseRange('bytes=-', 100)).toBeNull();
  });

  it('says unsatisfiable for a range past the end or backwards', () => {
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=5-4', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
  });
});
