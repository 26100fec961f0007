import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlvParser, HlsSegmenter } from '@astral/media';
import { HlsRecorder, readPlainPlaylist } from './hls-recorder';

const SAMPLE = join(__dirname, '..', '..', '..', '..', 'fixtures', 'sample.flv');
const TAGS = new FlvParser().push(readFileSync(SAMPLE));

function logger() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, msg: string): void => {
      lines.push({ level, fields, msg });
    };
  return { lines, log: { info: at('info'), warn: at('warn') } as never };
}

/** Runs the whole sample through a real segmenter with a recorder attached, as RelayHls does. */
async function record(root: string) {
  const { lines, log } = logger();
  const segmenter = new HlsSegmenter({
    partTargetMs: 200,
    segmentTargetMs: 1000,
    windowSegments: 3,
    windowBytes: 64 * 1024 * 1024,
  });
  const recorder = new HlsRecorder(root, 'show-1', segmenter, log);
  segmenter.onChange = () => recorder.update();
  for (const tag of TAGS) segmenter.push(tag, Date.now());
  segmenter.end();
  recorder.finish();
  await recorder.flushed();
  return { segmenter, lines, dir: join(root, 'show-1', segmenter.epoch) };
}

describe(HlsRecorder.name, () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'astral-hls-rec-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes every segment of the run (more than the window holds) and an EVENT playlist ffprobe plays', async () => {
    const { dir, lines } = await record(root);
    const text = readFileSync(join(dir, 'index.m3u8'), 'utf8');
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(text.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    const listed = text.split('\n').filter((l) => l.endsWith('.m4s'));
    expect(listed.length).toBeGreaterThan(3); // the window kept 3; the recording has them all
    for (const name of listed) expect(existsSync(join(dir, name))).toBe(true);
    expect(existsSync(join(dir, 'init0.mp4'))).toBe(true);
    const duration = Number(
      execFileSync('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'format=duration',
        '-of',
        'csv=p=0',
        join(dir, 'index.m3u8'),
      ])
        .toString()
        .trim(),
    );
    expect(duration).toBeGreaterThan(10); // the sample is 12 s
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('logs a disk error and never throws', async () => {
    const file = join(root, 'not-a-dir');
    writeFileSync(file, 'x');
    const { lines } = await record(file);
    expect(lines.some((l) => l.level === 'warn' && /HLS recording/.test(l.msg))).toBe(true);
  });
});

describe(readPlainPlaylist.name, () => {
  it('reads the segments, their init and tags, with URIs made local to the epoch', () => {
    const text = [
      '#EXTM3U',
      '#EXT-X-VERSION:6',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:7',
      '#EXT-X-MAP:URI="ab12cd34/init0.mp4"',
      '#EXTINF:2.000,',
      'ab12cd34/s7.m4s',
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-MAP:URI="ab12cd34/init1.mp4"',
      '#EXTINF:1.500,',
      'ab12cd34/s8.m4s',
    ].join('\n');
    expect(readPlainPlaylist(text, 'ab12cd34')).toEqual({
      version: 6,
      targetDurationS: 2,
      segments: [
        { msn: 7, name: 's7.m4s', init: 'init0.mp4', tags: ['#EXTINF:2.000,'] },
        { msn: 8, name: 's8.m4s', init: 'init1.mp4', tags: ['#EXT-X-DISCONTINUITY', '#EXTINF:1.500,'] },
      ],
    });
  });
});
