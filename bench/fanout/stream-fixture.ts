import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleFlvPath } from '@astral/testing';

/** An FLV file to publish in real time, looped, and the bit rate it carries (size over duration). */
export interface StreamFixture {
  file: string;
  kbps: number;
}

/** size × 8 ÷ ffprobe's duration: what a player keeping up with the live loop receives per second. */
export function flvKbps(file: string): number {
  const out = execFileSync(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', file],
    { encoding: 'utf8' },
  );
  const seconds = Number(out.trim());
  if (!(seconds > 0)) throw new Error(`ffprobe found no duration in ${file}`);
  return (statSync(file).size * 8) / seconds / 1000;
}

/** The encoder's settings for a stream of about `kbps` (audio included). */
function encodeArgs(kbps: number, out: string): string[] {
  // Large streams get 720p, small ones 360p, so the picture is plausible for the rate.
  const big = kbps >= 2000;
  const audioKbps = big ? 128 : 64;
  const video = `${kbps - audioKbps}k`;
  const fps = big ? 30 : 25;
  const size = big ? '1280x720' : '640x360';
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    // Temporal noise keeps x264 from undershooting the target on a synthetic picture.
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps},noise=alls=12:allf=t`],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
    ...['-t', '20', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
    ...['-g', String(2 * fps), '-keyint_min', String(2 * fps), '-sc_threshold', '0'],
    ...['-b:v', video, '-maxrate', video, '-bufsize', `${Math.round((kbps - audioKbps) / 2)}k`],
    ...['-c:a', 'aac', '-b:a', `${audioKbps}k`, '-f', 'flv', out],
  ];
}

/**
 * A stream of about `mbps` Mbit/s: the bundled sample when that is what is asked (~1 Mbit/s), otherwise
 * a 20 s ffmpeg test pattern (2 s GOP) made once and cached in the temp dir across runs.
 */
export function streamFixture(mbps: number): StreamFixture {
  const sample = sampleFlvPath();
  const sampleKbps = flvKbps(sample);
  if (Math.abs(sampleKbps - mbps * 1000) / (mbps * 1000) < 0.25) return { file: sample, kbps: sampleKbps };
  const dir = join(tmpdir(), 'astral-bench-streams');
  mkdirSync(dir, { recursive: true });
  const kbps = Math.round(mbps * 1000);
  const file = join(dir, `pattern-${kbps}k-v1.flv`);
  if (!existsSync(file)) {
    const part = `${file}.${process.pid}.part`;
    execFileSync('ffmpeg', encodeArgs(kbps, part), { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(part, file);
  }
  return { file, kbps: flvKbps(file) };
}
