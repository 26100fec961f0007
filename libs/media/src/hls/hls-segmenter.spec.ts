import { readFileSync } from 'node:fs';
import * as HLS from 'hls-parser';
import { findBoxes, readTrun, sampleFlvPath } from '@astral/testing';
import { FlvTag, FlvTagType } from '../flv/flv-tag';
import { clockTag } from '../amf/clock-tag';
import { loopTimestamp, prepareFlvLoop } from '../publish/flv-loop';
import { HlsSegmenter, hlsSegmenterSettings } from './hls-segmenter';
import type { HlsSegmenterSettings } from './hls-types';

const loop = prepareFlvLoop(readFileSync(sampleFlvPath()), 'sample.flv');
const WALL0 = Date.UTC(2026, 0, 1);

interface StreamOptions {
  passes: number;
  /** Added to every timestamp (then wrapped to 32 bits, as FLV carries them). */
  startMs?: number;
  /** An onAstralClock tag every this many ms of stream time, stamping WALL0 + stream time + clockSkewMs. */
  clockEveryMs?: number;
  clockSkewMs?: number;
}

/** The sample's tags looped: headers once, then `passes` passes with shifted timestamps. */
function* sampleStream(o: StreamOptions): Generator<FlvTag> {
  const start = o.startMs ?? 0;
  for (const t of loop.preamble) yield { ...t, timestamp: start >>> 0 };
  let nextClock = 0;
  for (let pass = 0; pass < o.passes; pass++) {
    for (const tag of loop.media) {
      const ms = loopTimestamp(loop, tag, pass);
      if (o.clockEveryMs && ms >= nextClock) {
        yield clockTag((start + ms) >>> 0, WALL0 + ms + (o.clockSkewMs ?? 0));
        nextClock += o.clockEveryMs;
      }
      yield { ...tag, timestamp: (start + ms) >>> 0 };
    }
  }
}

function segmenter(settings: Partial<HlsSegmenterSettings> = {}): HlsSegmenter {
  return new HlsSegmenter(hlsSegmenterSettings(settings), { epoch: 'testepoch1' });
}

/** Pushes tags; the caller's wall clock is WALL0 unless `wall` says otherwise (per tag index). */
function run(s: HlsSegmenter, tags: Iterable<FlvTag>, wall: (i: number) => number = () => WALL0): void {
  let i = 0;
  for (const tag of tags) s.push(tag, wall(i++));
}

function parse(text: string): HLS.types.MediaPlaylist {
  HLS.setOptions({ strictMode: true });
  const p = HLS.parse(text);
  if (p.isMasterPlaylist) throw new Error('expected a media playlist');
  return p;
}

/** Every tfdt (baseMediaDecodeTime) per track id, in fragment order, over the given parts. */
function tfdts(buffers: Buffer[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const buf of buffers) {
    for (const traf of findBoxes(buf, 'moof/traf')) {
      const tfhd = findBoxes(traf.body, 'tfhd')[0];
      const tfdt = findBoxes(traf.body, 'tfdt')[0];
      const id = tfhd.body.readUInt32BE(4);
      const v = tfdt.body[0] === 1 ? Number(tfdt.body.readBigUInt64BE(4)) : tfdt.body.readUInt32BE(4);
      out.set(id, [...(out.get(id) ?? []), v]);
    }
  }
  return out;
}

function allParts(s: HlsSegmenter): Buffer[] {
  const out: Buffer[] = [];
  const { firstMsn, liveMsn } = s.stats();
  for (let msn = firstMsn; msn <= liveMsn; msn++) {
    for (let i = 0; ; i++) {
      const r = s.find(`p${msn}.${i}.m4s`);
      if (r.kind !== 'ready') break;
      out.push(...r.chunks);
    }
  }
  return out;
}

describe('HlsSegmenter blocking() and find()', () => {
  it('answers ready, pending, missing and too-far, each beside its legitimate twin', () => {
    const s = segmenter();
    expect(s.started).toBe(false);
    expect(s.playlist('ll')).toBeNull();
    expect(s.blocking(0, 0)).toEqual({ kind: 'pending' });
    expect(s.blocking(3, 0).kind).toBe('too-far');
    run(s, sampleStream({ passes: 2 }));
    const { liveMsn, firstMsn } = s.stats();
    const ll = parse(s.playlist('ll')!);
    const liveSeg = ll.segments.at(-1)!;
    const openPart = liveSeg.parts.length - 1; // the hint
    // Parts and segments that exist are ready; the hinted part and the segment in progress are pending.
    expect(s.find(`p${liveMsn}.${openPart - 1}.m4s`).kind).toBe(openPart > 0 ? 'ready' : 'pending');
    expect(s.find(`p${liveMsn}.${openPart}.m4s`)).toEqual({ kind: 'pending' });
    expect(s.find(`p${liveMsn}.${openPart + 1}.m4s`).kind).toBe('missing');
    expect(s.find(`s${liveMsn - 1}.m4s`).kind).toBe('ready');
    expect(s.find(`s${liveMsn}.m4s`)).toEqual({ kind: 'pending' });
    expect(s.find(`s${liveMsn + 1}.m4s`).kind).toBe('missing');
    expect(s.find('init0.mp4').kind).toBe('ready');
    expect(s.find('init1.mp4').kind).toBe('missing');
    // Dropped from the window (6 segments kept): missing, the oldest kept is ready.
    expect(firstMsn).toBeGreaterThan(0);
    expect(s.find(`s${firstMsn - 1}.m4s`).kind).toBe('missing');
    expect(s.find(`p${firstMsn - 1}.0.m4s`).kind).toBe('missing');
    expect(s.find(`s${firstMsn}.m4s`).kind).toBe('ready');
    expect(s.find(`p${firstMsn}.0.m4s`).kind).toBe('ready');
    const seg = s.find(`s${liveMsn - 1}.m4s`);
    if (seg.kind === 'ready') expect(seg.bytes).toBe(seg.chunks.reduce((n, c) => n + c.length, 0));
    // Garbage is missing, never a throw.
    for (const name of [
      '',
      's01.m4s',
      'p1.m4s',
      's1.m4s.',
      '../s1.m4s',
      'init-1.mp4',
      `s${'9'.repeat(30)}.m4s`,
      'p1.01.m4s',
      'S1.m4s',
    ]) {
      expect(s.find(name).kind).toBe('missing');
    }
    // Blocking: parts that exist are ready, the next one pending, past live + 2 too far.
    expect(s.blocking(liveMsn - 1, undefined)).toEqual({ kind: 'ready' });
    expect(s.blocking(liveMsn, undefined)).toEqual({ kind: 'pending' });
    expect(s.blocking(liveMsn, openPart)).toEqual({ kind: 'pending' });
    if (openPart > 0) expect(s.blocking(liveMsn, openPart - 1)).toEqual({ kind: 'ready' });
    expect(s.blocking(liveMsn + 2, 0)).toEqual({ kind: 'pending' });
    expect(s.blocking(liveMsn + 3, 0).kind).toBe('too-far');
    // One past the last part of a completed segment is the next segment's part 0.
    const prev = ll.segments.at(-2)!;
    expect(s.blocking(liveMsn - 1, prev.parts.length)).toEqual(s.blocking(liveMsn, 0));
  });

  it('onChange fires when a part is cut, and then the hinted part is ready', () => {
    const s = segmenter();
    const tags = [...sampleStream({ passes: 1 })];
    run(s, tags.slice(0, 200));
    const { liveMsn } = s.stats();
    const hinted = /PRELOAD-HINT:TYPE=PART,URI="testepoch1\/(p\d+\.\d+\.m4s)"/.exec(s.playlist('ll')!)![1];
    expect(s.find(hinted)).toEqual({ kind: 'pending' });
    let fired = 0;
    s.onChange = () => fired++;
    for (const tag of tags.slice(200)) {
      s.push(tag, WALL0);
      if (fired > 0) break;
    }
    expect(fired).toBe(1);
    expect(s.find(hinted).kind).toBe('ready');
    expect(s.stats().liveMsn).toBeGreaterThanOrEqual(liveMsn);
  });
});

describe('HlsSegmenter on the looped sample (H.264 25 fps, AAC 44.1 kHz, a keyframe every second)', () => {
  it("ends every part's audio no earlier than its video, so a part alone fills its own time range", () => {
    const s = segmenter();
    run(s, sampleStream({ passes: 1 }));
    const parts = allParts(s);
    expect(parts.length).toBeGreaterThan(20);
    for (const part of parts) {
      const end = new Map<number, number>();
      for (const traf of findBoxes(part, 'moof/traf')) {
        const id = findBoxes(traf.body, 'tfhd')[0].body.readUInt32BE(4);
        const tfdt = findBoxes(traf.body, 'tfdt')[0].body;
        const base = Number(tfdt.readBigUInt64BE(4));
        const run_ = readTrun(findBoxes(traf.body, 'trun')[0]);
        end.set(id, base + run_.samples.reduce((sum, x) => sum + (x.duration ?? 0), 0));
      }
      const videoEndS = end.get(1)! / 90000;
      const audioEndS = end.get(2)! / 44100;
      // The audio reaches the video's end (within a ms), and runs past it by less than one AAC frame (23 ms).
      expect(audioEndS).toBeGreaterThanOrEqual(videoEndS - 0.001);
      expect(audioEndS - videoEndS).toBeLessThan(1024 / 44100 + 0.001);
    }
  });

  it('cuts 2 s segments that start on a keyframe, parts never past PART-TARGET, INDEPENDENT at keyframes', () => {
    const s = segmenter();
    run(s, sampleStream({ passes: 2 }));
    const ll = parse(s.playlist('ll')!);
    expect(ll.targetDuration).toBe(2);
    expect(ll.partTargetDuration).toBe(0.333);
    expect(ll.lowLatencyCompatibility).toMatchObject({ canBlockReload: true, partHoldBack: 0.999 });
    expect(ll.version).toBeGreaterThanOrEqual(6);
    const complete = ll.segments.filter(
      (seg) => seg.duration !== undefined && !seg.parts.some((p) => p.hint),
    );
    expect(complete.length).toBe(6);
    // 2 s, or a frame more where the loop's keyframe comes one frame interval late.
    for (const seg of complete) expect(seg.duration >= 2 && seg.duration <= 2.04).toBe(true);
    for (const seg of ll.segments) {
      for (const p of seg.parts.filter((x) => !x.hint)) expect(p.duration!).toBeLessThanOrEqual(0.333);
      if (seg.parts.length > 0) expect(seg.parts[0].independent).toBe(true);
      expect(seg.programDateTime).toBeInstanceOf(Date);
    }
    // Parts for the segment in progress and the two before it, then one preload hint for the next part.
    expect(ll.segments.filter((seg) => seg.parts.length > 0)).toHaveLength(3);
    const hints = ll.segments.flatMap((seg) => seg.parts.filter((p) => p.hint));
    expect(hints).toHaveLength(1);
    expect(ll.segments[ll.segments.length - 1].parts.at(-1)!.hint).toBe(true);
    expect(s.playlist('ll')).toContain('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="testepoch1/p');
    expect(s.playlist('ll')).toMatch(/^#EXT-X-MEDIA-SEQUENCE:\d+$/m);
    expect(s.playlist('ll')).toMatch(/^#EXT-X-DISCONTINUITY-SEQUENCE:0$/m);
    // Every segment's first fragment opens with a sync video sample.
    for (const seg of complete) {
      const r = s.find(seg.uri.split('/')[1]);
      expect(r.kind).toBe('ready');
      if (r.kind !== 'ready') continue;
      const trun = findBoxes(r.chunks[0], 'moof/traf/trun')[0].body;
      expect(
        trun.readUInt32BE(8 + (trun.readUIntBE(1, 3) & 1 ? 4 : 0) + (trun.readUIntBE(1, 3) & 4 ? 4 : 0) + 8),
      ).toBe(0x02000000);
    }
  });

  it('the plain playlist lists the completed segments only: no parts, server control or hint', () => {
    const s = segmenter();
    run(s, sampleStream({ passes: 1 }));
    const text = s.playlist('plain')!;
    const plain = parse(text);
    expect(plain.segments.length).toBe(s.stats().segments);
    expect(plain.segments.every((seg) => seg.parts.length === 0)).toBe(true);
    expect(text).not.toMatch(/EXT-X-(PART|SERVER-CONTROL|PRELOAD-HINT)/);
    expect(text).toContain('#EXT-X-MAP:URI="testepoch1/init0.mp4"');
    expect(plain.segments[0].uri).toBe(`testepoch1/s${s.stats().firstMsn}.m4s`);
  });

  it('a continuous stream has no discontinuity; a 32-bit timestamp wrap neither, and tfdt stays monotonic', () => {
    const s = segmenter({ windowSegments: 100 });
    // Start 5 s before 2^32 ms (49.7 days): the wrap falls in the first pass.
    run(s, sampleStream({ passes: 2, startMs: 2 ** 32 - 5000 }));
    expect(s.stats().discontinuities).toBe(0);
    expect(s.playlist('ll')).not.toContain('#EXT-X-DISCONTINUITY\n');
    const byTrack = tfdts(allParts(s));
    for (const [, list] of byTrack) {
      expect(list.every((t, i) => i === 0 || t > list[i - 1])).toBe(true);
    }
    expect(byTrack.get(1)!.at(-1)! / 90000).toBeGreaterThan(2 ** 32 / 1000);
  });

  it('a timestamp that goes back starts a new segment after one EXT-X-DISCONTINUITY, decode times rebased', () => {
    const s = segmenter({ windowSegments: 100 });
    run(s, sampleStream({ passes: 1, startMs: 60_000 }));
    run(s, [...sampleStream({ passes: 1 })].slice(loop.preamble.length), (i) => WALL0 + 20_000 + i * 10);
    expect(s.stats().discontinuities).toBe(1);
    const pl = parse(s.playlist('plain')!);
    expect(pl.segments.filter((seg) => seg.discontinuity)).toHaveLength(1);
    const v = tfdts(allParts(s)).get(1)!;
    expect(v.every((t, i) => i === 0 || t > v[i - 1])).toBe(true);
  });

  it('a new codec configuration gives one discontinuity and a new init segment, same bytes again give none', () => {
    const s = segmenter({ windowSegments: 100 });
    run(s, sampleStream({ passes: 1 }));
    const [meta, video, audio] = loop.preamble;
    // The same headers again (a source re-sends them): nothing changes.
    run(
      s,
      [meta, video, audio].map((t) => ({ ...t, timestamp: 12_000 })),
    );
    run(
      s,
      [...sampleStream({ passes: 2 })]
        .slice(loop.preamble.length + 300 * 0)
        .filter((t) => t.timestamp >= 12_040 && t.timestamp < 18_000),
    );
    expect(s.stats().discontinuities).toBe(0);
    // A changed AVCDecoderConfigurationRecord (another level byte).
    const changed = Buffer.from(video.data);
    changed[5 + 3] ^= 0x01;
    s.push({ ...video, timestamp: 18_000, data: changed }, WALL0);
    run(
      s,
      [...sampleStream({ passes: 3 })].filter((t) => t.timestamp >= 18_000 && t.timestamp < 30_000),
    );
    expect(s.stats().discontinuities).toBe(1);
    expect(s.find('init1.mp4').kind).toBe('ready');
    expect(s.find('init2.mp4').kind).toBe('missing');
    const text = s.playlist('plain')!;
    expect(text).toMatch(
      /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="testepoch1\/init1.mp4"\n#EXT-X-PROGRAM-DATE-TIME/,
    );
  });

  it('EXT-X-PROGRAM-DATE-TIME follows the clock tags, else the wall clock at the first tag', () => {
    const stamped = segmenter();
    run(stamped, sampleStream({ passes: 1, clockEveryMs: 1000, clockSkewMs: -3000 }));
    const withClock = parse(stamped.playlist('plain')!);
    const first = withClock.segments[0];
    // The segment msn starts at stream time 2 s * msn (the first keyframe is at 0).
    expect(first.programDateTime!.getTime()).toBe(WALL0 - 3000 + first.mediaSequenceNumber * 2000);
    const plain = segmenter();
    run(plain, sampleStream({ passes: 1 }));
    const seg = parse(plain.playlist('plain')!).segments[0];
    expect(seg.programDateTime!.getTime()).toBe(WALL0 + seg.mediaSequenceNumber * 2000);
  });

  it('end() closes the segment in progress, adds EXT-X-ENDLIST and fires onChange', () => {
    const s = segmenter();
    let changes = 0;
    s.onChange = () => changes++;
    run(s, sampleStream({ passes: 1 }));
    const before = changes;
    const live = s.stats().liveMsn;
    s.end();
    expect(changes).toBe(before + 1);
    expect(s.find(`s${live}.m4s`).kind).toBe('ready');
    for (const kind of ['ll', 'plain'] as const) {
      const text = s.playlist(kind)!;
      expect(text).toMatch(/#EXT-X-ENDLIST\n$/);
      expect(text).not.toContain('PRELOAD-HINT');
      parse(text);
    }
    expect(s.blocking(live + 1, 0)).toEqual({ kind: 'ready' });
  });

  it('an audio-only stream (no video header after a second of audio) is cut by time', () => {
    const s = segmenter();
    const audioOnly = [...sampleStream({ passes: 1 })].filter(
      (t) => t.type === FlvTagType.Audio || t.type === FlvTagType.Script,
    );
    run(s, audioOnly);
    const ll = parse(s.playlist('ll')!);
    const complete = ll.segments.filter((seg) => !seg.parts.some((p) => p.hint));
    expect(complete.length).toBeGreaterThanOrEqual(4);
    for (const seg of complete) {
      expect(seg.duration).toBeGreaterThanOrEqual(2);
      expect(seg.duration).toBeLessThan(2.4);
    }
    for (const seg of ll.segments) {
      for (const p of seg.parts.filter((x) => !x.hint)) {
        expect(p.duration!).toBeLessThanOrEqual(0.333);
        expect(p.independent).toBe(true);
      }
    }
    const r = s.find('init0.mp4');
    expect(r.kind === 'ready' && findBoxes(r.chunks[0], 'moov/trak').length).toBe(1);
  });
});
