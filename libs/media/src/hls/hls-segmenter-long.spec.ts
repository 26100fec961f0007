import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as HLS from 'hls-parser';
import { probeFile, sampleFlvPath } from '@astral/testing';
import { FlvTag } from '../flv/flv-tag';
import { loopTimestamp, prepareFlvLoop } from '../publish/flv-loop';
import { HlsSegmenter, hlsSegmenterSettings } from './hls-segmenter';

const loop = prepareFlvLoop(readFileSync(sampleFlvPath()), 'sample.flv');
const WALL0 = Date.UTC(2026, 0, 1);

function* looped(passes: number): Generator<FlvTag> {
  yield* loop.preamble;
  for (let pass = 0; pass < passes; pass++) {
    for (const tag of loop.media) yield { ...tag, timestamp: loopTimestamp(loop, tag, pass) };
  }
}

describe('HlsSegmenter over a long run', () => {
  it('1 hour of segments: memory stays within the window bound', () => {
    const settings = hlsSegmenterSettings();
    const s = new HlsSegmenter(settings, { epoch: 'memtest01' });
    let boundaries = 0;
    let largestSegment = 0;
    let lastLive = -1;
    let maxRetained = 0;
    const passes = Math.ceil(3600_000 / loop.spanMs);
    for (const tag of looped(passes)) {
      s.push(tag, WALL0);
      const st = s.stats();
      if (st.liveMsn === lastLive) continue;
      // At every segment boundary: the completed window, the one in progress and the init, nothing more.
      lastLive = st.liveMsn;
      maxRetained = Math.max(maxRetained, st.retainedBytes);
      boundaries++;
      const newest = s.find(`s${st.liveMsn - 1}.m4s`);
      if (newest.kind === 'ready') largestSegment = Math.max(largestSegment, newest.bytes);
      const init = s.find('init0.mp4');
      const initBytes = init.kind === 'ready' ? init.bytes : 0;
      expect(st.segments).toBeLessThanOrEqual(settings.windowSegments);
      expect(st.retainedBytes).toBeLessThanOrEqual(
        (settings.windowSegments + 1) * largestSegment + initBytes,
      );
      expect(st.retainedBytes).toBeLessThanOrEqual(settings.windowBytes + largestSegment + initBytes);
    }
    const st = s.stats();
    process.stdout.write(
      `hls 1 h: msn ${st.liveMsn}, largest segment ${largestSegment} B, max retained ${maxRetained} B\n`,
    );
    expect(st.liveMsn).toBeGreaterThanOrEqual(1790);
    expect(boundaries).toBeGreaterThanOrEqual(1790);
    expect(st.segments).toBe(settings.windowSegments);
    expect(st.firstMsn).toBe(st.liveMsn - settings.windowSegments);
    expect(st.discontinuities).toBe(0);
    // retainedBytes is exact: the listed segments, the one in progress and the init.
    let sum = 0;
    for (let msn = st.firstMsn; msn < st.liveMsn; msn++) {
      const r = s.find(`s${msn}.m4s`);
      sum += r.kind === 'ready' ? r.bytes : NaN;
    }
    for (let i = 0; ; i++) {
      const r = s.find(`p${st.liveMsn}.${i}.m4s`);
      if (r.kind !== 'ready') break;
      sum += r.bytes;
    }
    const init = s.find('init0.mp4');
    expect(st.retainedBytes).toBe(sum + (init.kind === 'ready' ? init.bytes : NaN));
    const pl = HLS.parse(s.playlist('plain')!) as HLS.types.MediaPlaylist;
    expect(pl.segments).toHaveLength(settings.windowSegments);
    expect(pl.mediaSequenceBase).toBe(st.firstMsn);
  });

  it('init + a segment is H.264 + AAC to ffprobe, starts on a keyframe, timestamps monotonic', async () => {
    const s = new HlsSegmenter(hlsSegmenterSettings(), { epoch: 'probetest1' });
    for (const tag of looped(2)) s.push(tag, WALL0);
    const dir = mkdtempSync(join(tmpdir(), 'astral-hls-'));
    try {
      const path = join(dir, 's.mp4');
      const init = s.find('init0.mp4');
      // Segment 5 spans the sample's loop point (10 s → 12 s + one frame).
      const seg = s.find('s5.m4s');
      if (init.kind !== 'ready' || seg.kind !== 'ready') throw new Error('init0 and s5 should be ready');
      writeFileSync(path, Buffer.concat([...init.chunks, ...seg.chunks]));
      const { streams, packets } = await probeFile(path);
      expect(streams.map((x) => x.codec_name).sort()).toEqual(['aac', 'h264']);
      const video = streams.find((x) => x.codec_type === 'video')!;
      const audio = streams.find((x) => x.codec_type === 'audio')!;
      const v = packets.filter((p) => p.stream_index === video.index);
      expect(v[0].flags.startsWith('K')).toBe(true);
      expect(v.length).toBeGreaterThanOrEqual(50);
      for (const stream of [video, audio]) {
        const dts = packets.filter((p) => p.stream_index === stream.index).map((p) => Number(p.dts));
        expect(dts.length).toBeGreaterThan(0);
        expect(dts.every((t, i) => Number.isFinite(t) && (i === 0 || t > dts[i - 1]))).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders a playlist once per change (cached between requests); cost per render measured', () => {
    const s = new HlsSegmenter(hlsSegmenterSettings(), { epoch: 'rendertest' });
    for (const tag of looped(2)) s.push(tag, WALL0);
    const a = s.playlist('ll');
    expect(s.playlist('ll')).toBe(a);
    const { renderPlaylist } = jest.requireActual<typeof import('./hls-playlist')>('./hls-playlist');
    const view = (s as unknown as { view(): Parameters<typeof renderPlaylist>[1] }).view();
    const n = 2000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) renderPlaylist(i % 2 ? 'll' : 'plain', view);
    const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
    // Reported, not asserted (no timing assertions in unit specs).
    process.stdout.write(
      `hls playlist render: ${us.toFixed(1)} µs per playlist (ll and plain alternating)\n`,
    );
    expect(renderPlaylist('ll', view)).toBe(a);
  });
});
