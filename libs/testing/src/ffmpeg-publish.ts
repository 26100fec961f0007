import { ManagedProcess, spawnManaged } from './managed-process';

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
