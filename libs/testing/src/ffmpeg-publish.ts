import { execFile } from 'node:child_process';
import { ManagedProcess, spawnManaged } from './managed-process';
import { sampleFlvPath } from './repo-root';

/**
 * `ffmpeg -re -stream_loop -1 -i <file> -c copy -f flv <url>`: the file published in real time over RTMP,
 * looped until stopped, ffmpeg's output appended to logFile.
 */
export function spawnFfmpegLoopPublisher(
  name: string,
  file: string,
  rtmpUrl: string,
  logFile: string,
): ManagedProcess {
  return spawnManaged(
    name,
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'warning',
      '-re',
      '-stream_loop',
      '-1',
      '-i',
      file,
      '-c',
      'copy',
      '-f',
      'flv',
      rtmpUrl,
    ],
    { command: 'ffmpeg', logFile },
  );
}

export interface FfmpegPublishResult {
  /** ffmpeg's exit code: 0 when the whole publish went through. */
  code: number | null;
  stderr: string;
}

/**
 * `ffmpeg -re -i <sample> -t <seconds> -c copy [-output_ts_offset <s>] -f flv <url>`: the bundled sample
 * published once in real time for `seconds` (RTMP or HTTP-FLV, by the URL), killed if it has not ended 15 s
 * after that. Resolves with its exit code and what it wrote to stderr (at `logLevel`, default error).
 */
export function ffmpegPublishFor(
  url: string,
  seconds: number,
  options: { tsOffsetS?: number; logLevel?: string } = {},
): Promise<FfmpegPublishResult> {
  const args = ['-hide_banner', '-loglevel', options.logLevel ?? 'error', '-re', '-i', sampleFlvPath()];
  args.push('-t', String(seconds), '-c', 'copy');
  if (options.tsOffsetS) args.push('-output_ts_offset', String(options.tsOffsetS));
  args.push('-f', 'flv', url);
  return new Promise((resolve) => {
    execFile(
      'ffmpeg',
      args,
      { timeout: (seconds + 15) * 1000, killSignal: 'SIGKILL' },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}
