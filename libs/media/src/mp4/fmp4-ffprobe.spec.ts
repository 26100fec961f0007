import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { childBoxes, findBoxes, probeFile, readTrun, remuxFlvByGop, sampleFlvPath } from '@astral/testing';
import { FlvParser } from '../flv/flv-parser';

describe('the fMP4 muxer, checked by ffprobe and ffmpeg on the remuxed sample', () => {
  const dir = mkdtempSync(join(tmpdir(), 'astral-fmp4-'));
  const path = join(dir, 'sample.mp4');
  const remuxed = remuxFlvByGop(new FlvParser().push(readFileSync(sampleFlvPath())));
  const file = Buffer.concat([remuxed.init, ...remuxed.fragments]);
  const gops = remuxed.fragments.length;
  writeFileSync(path, file);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the tracks from the sequence headers and cuts a fragment per GOP', () => {
    expect(gops).toBeGreaterThanOrEqual(11);
    expect(remuxed.tracks.video).toMatchObject({ codec: 'avc', width: 640, height: 360, timescale: 90000 });
    expect(remuxed.tracks.video.codecString).toMatch(/^avc1\.4d40[0-9a-f]{2}$/);
    expect(remuxed.tracks.audio).toMatchObject({
      codec: 'aac',
      codecString: 'mp4a.40.2',
      sampleRate: 44100,
      channels: 2,
    });
  });

  it('ffprobe finds H.264 640x360 and AAC 44.1 kHz stereo, every video frame, monotonic dts', async () => {
    const { streams, packets } = await probeFile(path);
    expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const v = streams.find((s) => s.codec_type === 'video')!;
    const a = streams.find((s) => s.codec_type === 'audio')!;
    expect([v.width, v.height]).toEqual([640, 360]);
    expect([a.sample_rate, a.channels]).toEqual(['44100', 2]);
    const videoPackets = packets.filter((p) => p.stream_index === v.index);
    expect(videoPackets).toHaveLength(remuxed.videoFrames);
    for (const stream of [v, a]) {
      const dts = packets.filter((p) => p.stream_index === stream.index).map((p) => Number(p.dts));
      expect(dts.every((t, i) => Number.isFinite(t) && (i === 0 || t > dts[i - 1]))).toBe(true);
    }
    // One keyframe per GOP, and it opens each fragment (see the trun check below).
    expect(videoPackets.filter((p) => p.flags.startsWith('K'))).toHaveLength(gops);
  });

  it('starts every fragment with a sync video sample', () => {
    const moofs = findBoxes(file, 'moof');
    expect(moofs).toHaveLength(gops);
    for (const moof of moofs) {
      const trafs = childBoxes(file, moof).filter((b) => b.type === 'traf');
      const videoTraf = trafs.find((t) => childBoxes(file, t)[0].body.readUInt32BE(4) === 1)!;
      const trun = readTrun(childBoxes(file, videoTraf).find((b) => b.type === 'trun')!);
      expect(trun.samples[0].flags).toBe(0x02000000);
      expect(trun.samples.slice(1).every((s) => s.flags === 0x01010000)).toBe(true);
    }
  });

  it('decodes with ffmpeg without a single error', async () => {
    const { stderr } = await promisify(execFile)('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-'], {
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    expect(stderr.trim()).toBe('');
  });
});
