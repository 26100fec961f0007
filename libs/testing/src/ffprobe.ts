import { execFile } from 'node:child_process';
import { redactUrl } from './http-json';

export interface FfprobeStream {
  codec_type: string;
  codec_name: string;
  nb_read_frames: number;
}

export interface FfprobeOptions {
  /** Hard limit; ffprobe is killed after it (default 20 s). */
  timeoutMs?: number;
  /** How much of the stream to read and count (default 3 s). */
  readSeconds?: number;
}

/**
 * Plays `url` with ffprobe for readSeconds and reports the streams found and the frames decoded in
 * each. It cannot hang: ffprobe's I/O timeout is set and the process is killed at timeoutMs.
 */
export function ffprobe(url: string, options: FfprobeOptions = {}): Promise<{ streams: FfprobeStream[] }> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const readSeconds = options.readSeconds ?? 3;
  const ioTimeoutUs = Math.max(1, Math.min(timeoutMs, 10_000)) * 1000;
  const args = ['-v', 'error', '-rw_timeout', String(ioTimeoutUs)];
  args.push('-show_entries', 'stream=codec_type,codec_name,nb_read_frames', '-count_frames');
  args.push('-read_intervals', `%+${readSeconds}`, '-of', 'json', url);
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const safeUrl = redactUrl(url);
        if (err) {
          const why = err.killed ? `killed after ${timeoutMs} ms` : err.message.split('\n')[0];
          reject(new Error(`ffprobe ${safeUrl} failed (${why}): ${stderr.trim().slice(0, 1000)}`));
          return;
        }
        try {
          const parsed = JSON.parse(stdout) as {
            streams?: { codec_type?: string; codec_name?: string; nb_read_frames?: string }[];
          };
          resolve({
            streams: (parsed.streams ?? []).map((s) => ({
              codec_type: s.codec_type ?? '',
              codec_name: s.codec_name ?? '',
              nb_read_frames: Number(s.nb_read_frames ?? 0),
            })),
          });
        } catch {
          reject(
            new Error(`ffprobe ${safeUrl} printed no JSON: ${stdout.slice(0, 500)} ${stderr.slice(0, 500)}`),
          );
        }
      },
    );
  });
}

export interface ProbedStream {
  index: number;
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
}

export interface ProbedPacket {
  stream_index: number;
  /** Stream time base units; absent when ffprobe prints "N/A". */
  dts?: number;
  pts?: number;
  /** 'K_' for a keyframe packet. */
  flags: string;
  size: string;
}

/**
 * Every stream and packet of a local media file (ffprobe -show_streams -show_packets -of json), for specs
 * that check a file's structure packet by packet. Killed at timeoutMs (default 20 s).
 */
export function probeFile(
  path: string,
  timeoutMs = 20_000,
): Promise<{ streams: ProbedStream[]; packets: ProbedPacket[] }> {
  const args = ['-v', 'error', '-show_streams', '-show_packets', '-of', 'json', path];
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(
            new Error(`ffprobe ${path} failed (${err.message.split('\n')[0]}): ${stderr.slice(0, 1000)}`),
          );
          return;
        }
        try {
          const parsed = JSON.parse(stdout) as { streams?: ProbedStream[]; packets?: ProbedPacket[] };
          resolve({ streams: parsed.streams ?? [], packets: parsed.packets ?? [] });
        } catch {
          reject(
            new Error(`ffprobe ${path} printed no JSON: ${stdout.slice(0, 500)} ${stderr.slice(0, 500)}`),
          );
        }
      },
    );
  });
}
