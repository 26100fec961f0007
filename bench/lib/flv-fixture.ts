import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where generated inputs are kept between runs (ASTRAL_BENCH_CACHE, else the system temp dir). */
export const benchCacheDir = (): string =>
  process.env.ASTRAL_BENCH_CACHE ?? join(tmpdir(), 'astral-bench-cache');

export interface TestFlv {
  file: string;
  kbps: number;
  /** The file's measured average rate (size × 8 ÷ duration), what a player must receive. */
  measuredKbps: number;
  seconds: number;
}

const AUDIO_KBPS = 64;
const SECONDS = 20;

/**
 * A 20 s FLV at `kbps` in all (H.264 at kbps − 64, constant-rate-ish: maxrate = bitrate, a half-second
 * buffer; a keyframe every 2 s at 25 fps; AAC 64 kbit/s), from lavfi testsrc2 + sine, made with ffmpeg once
 * and cached. The size grows with the rate (1280×720 from 3 Mbit/s up, else 640×360), so that x264 is not
 * padding a tiny picture.
 */
export function testFlv(kbps: number): TestFlv {
  const dir = benchCacheDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `testsrc2-${kbps}k-${SECONDS}s.flv`);
  if (!existsSync(file)) {
    const v = kbps - AUDIO_KBPS;
    const size = kbps >= 3000 ? '1280x720' : '640x360';
    const tmp = `${file}.${process.pid}.tmp.flv`;
    execFileSync(
      'ffmpeg',
      [
        ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
        ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`],
        ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
        ...['-t', String(SECONDS), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
        ...['-g', '50', '-keyint_min', '50', '-sc_threshold', '0'],
        ...['-b:v', `${v}k`, '-minrate', `${v}k`, '-maxrate', `${v}k`, '-bufsize', `${Math.round(v / 2)}k`],
        ...['-x264-params', 'nal-hrd=cbr:force-cfr=1'],
        ...['-c:a', 'aac', '-b:a', `${AUDIO_KBPS}k`, '-f', 'flv', tmp],
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 },
    );
    renameSync(tmp, file);
  }
  return { file, kbps, seconds: SECONDS, measuredKbps: (statSync(file).size * 8) / SECONDS / 1000 };
}
