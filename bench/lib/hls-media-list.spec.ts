import {
  blockingReloadUrl,
  lastCompleteMsn,
  mediaEntries,
  nextPartToAwait,
  parseMediaPlaylist,
} from './hls-media-list';

const HEAD = [
  '#EXTM3U',
  '#EXT-X-VERSION:9',
  '#EXT-X-TARGETDURATION:2',
  '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,HOLD-BACK=6.0',
  '#EXT-X-PART-INF:PART-TARGET=0.334',
  '#EXT-X-MEDIA-SEQUENCE:7',
  '#EXT-X-MAP:URI="ab12cd34/init0.mp4"',
];

/** A live LL playlist: segment 7 complete (with parts), segment 8 in progress with two parts and a hint. */
const LL = [
  ...HEAD,
  '#EXT-X-PROGRAM-DATE-TIME:2026-12-01T20:00:00.000Z',
  '#EXT-X-PART:DURATION=0.334,URI="ab12cd34/p7.0.m4s",INDEPENDENT=YES',
  '#EXT-X-PART:DURATION=0.333,URI="ab12cd34/p7.1.m4s"',
  '#EXTINF:0.667,',
  'ab12cd34/s7.m4s',
  '#EXT-X-DISCONTINUITY',
  '#EXT-X-PROGRAM-DATE-TIME:2026-12-01T20:00:05.000Z',
  '#EXT-X-PART:DURATION=0.334,URI="ab12cd34/p8.0.m4s",INDEPENDENT=YES',
  '#EXT-X-PART:DURATION=0.333,URI="ab12cd34/p8.1.m4s"',
  '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="ab12cd34/p8.2.m4s"',
  '',
].join('\n');

const PDT = Date.parse('2026-12-01T20:00:00.000Z');

describe('hls-media-list', () => {
  it('lists segments and parts with their sequence numbers, offsets and program date times', () => {
    const entries = mediaEntries(parseMediaPlaylist(LL, true));
    expect(entries.map((e) => [e.kind, e.uri, e.msn, e.part, e.hint])).toEqual([
      ['part', 'ab12cd34/p7.0.m4s', 7, 0, false],
      ['part', 'ab12cd34/p7.1.m4s', 7, 1, false],
      ['segment', 'ab12cd34/s7.m4s', 7, undefined, false],
      ['part', 'ab12cd34/p8.0.m4s', 8, 0, false],
      ['part', 'ab12cd34/p8.1.m4s', 8, 1, false],
      ['part', 'ab12cd34/p8.2.m4s', 8, 2, true],
    ]);
    expect(entries[1]).toMatchObject({ pdtMs: PDT, offsetMs: 334, durationMs: 333, discontinuity: false });
    expect(entries[5]).toMatchObject({ pdtMs: PDT + 5000, offsetMs: 667, durationMs: null });
    expect(entries[4].discontinuity).toBe(true);
    expect(entries[0].mapUri).toBe('ab12cd34/init0.mp4');
  });

  it('derives a missing program date time from the previous segment', () => {
    const text = [
      '#EXTM3U',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:3',
      '#EXT-X-PROGRAM-DATE-TIME:2026-12-01T20:00:00.000Z',
      '#EXTINF:2.0,',
      's3.m4s',
      '#EXTINF:2.0,',
      's4.m4s',
      '',
    ].join('\n');
    const entries = mediaEntries(parseMediaPlaylist(text));
    expect(entries.map((e) => [e.msn, e.pdtMs])).toEqual([
      [3, PDT],
      [4, PDT + 2000],
    ]);
    expect(lastCompleteMsn(parseMediaPlaylist(text))).toBe(4);
  });

  it('asks a blocking reload for the part after the last complete one', () => {
    expect(nextPartToAwait(parseMediaPlaylist(LL))).toEqual({ msn: 8, part: 2 });
    // The segment just completed, no hint yet: part 0 of the next one.
    const closed = LL.replace(
      /#EXT-X-PART:DURATION=0.33\d,URI="ab12cd34\/p8[\s\S]*$/,
      '#EXTINF:0.667,\nab12cd34/s8.m4s\n',
    );
    expect(nextPartToAwait(parseMediaPlaylist(closed))).toEqual({ msn: 9, part: 0 });
    // Only a hint for the new segment.
    const hinted = `${closed}#EXT-X-PRELOAD-HINT:TYPE=PART,URI="ab12cd34/p9.0.m4s"\n`;
    expect(nextPartToAwait(parseMediaPlaylist(hinted))).toEqual({ msn: 9, part: 0 });
  });

  it('writes the blocking-reload query', () => {
    expect(blockingReloadUrl('http://127.0.0.1:1/live/x/ll.m3u8', 12, 3)).toBe(
      'http://127.0.0.1:1/live/x/ll.m3u8?_HLS_msn=12&_HLS_part=3',
    );
    expect(blockingReloadUrl('http://127.0.0.1:1/live/x/ll.m3u8?a=1', 12)).toBe(
      'http://127.0.0.1:1/live/x/ll.m3u8?a=1&_HLS_msn=12',
    );
  });
});
