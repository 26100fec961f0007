import { ManagedProcess, spawnManaged } from '@astral/testing';

/**
 * ffmpeg publishing a live test pattern with audio (testsrc with its frame counter, so every frame's bytes
 * differ; a 440 Hz tone), H.264 with a keyframe every 2 s and AAC, in real time over RTMP.
 */
export function spawnTestPattern(name: string, rtmpUrl: string, logFile: string): ManagedProcess {
  return spawnManaged(
    name,
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'warning', '-re'],
      ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
      ...['-g', '50', '-b:v', '400k', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', rtmpUrl],
    ],
    { command: 'ffmpeg', logFile },
  );
}
