import { createServer, Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { ManagedProcess, makeTempDir, removeTempDir, spawnManaged } from '@astral/testing';

/**
 * The peer of the HLS bench: ffmpeg's own HLS muxer (CMAF fMP4, 2 s segments, program date time) fed the
 * same stream over HTTP-FLV, its output directory served by a tiny static HTTP server, so that the bench's
 * HLS client measures it exactly as it measures a relay.
 *
 * ffmpeg's EXT-X-PROGRAM-DATE-TIME is its own wall clock when the muxer starts plus the media duration since,
 * and it joins the relay at its cached GOP (up to a GOP old, delivered at once): latencies by its PDT come out
 * short by that GOP's age. With `copyts` its media times are the FLV timestamps, which the bench dates by the
 * source's clock stamps (bench/lib/source-clock.ts), as Astral's PDT is.
 */
export interface FfmpegHlsPeer {
  playlistUrl: string;
  process: ManagedProcess;
  dir: string;
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
};

/** Serves the files of `dir` (flat: no sub-paths, so no traversal) with HLS media types. */
function serveDir(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    // hls.js in the bench's page (another origin) reads it too, as it reads a relay's.
    res.setHeader('access-control-allow-origin', '*');
    const name = basename(new URL(req.url ?? '/', 'http://x').pathname);
    const file = join(dir, name);
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (!type || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":404,"error":"not found"}');
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, {
        'content-type': type,
        'content-length': body.length,
        'cache-control': 'no-cache',
      });
      res.end(body);
    } catch {
      // Deleted between the check and the read (delete_segments): as if it never was.
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":404,"error":"gone"}');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Starts `ffmpeg -i <flvUrl> -c copy -f hls …` into a temp dir and serves that dir on a free loopback port. */
export async function startFfmpegHlsPeer(
  flvUrl: string,
  logFile: string,
  options: { copyts?: boolean } = {},
): Promise<FfmpegHlsPeer> {
  const dir = makeTempDir('astral-ffmpeg-hls-');
  const server = await serveDir(dir);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'warning'];
  // -copyts: the segments' media times are the FLV timestamps, which the source's clock stamps date.
  if (options.copyts) args.push('-copyts');
  args.push('-i', flvUrl);
  // Audio and video only: the relay's FLV also carries script tags (the source clock), not HLS material.
  args.push('-map', '0:v:0', '-map', '0:a:0', '-c', 'copy');
  args.push('-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_time', '2', '-hls_list_size', '6');
  args.push('-hls_flags', 'delete_segments+program_date_time+independent_segments+temp_file');
  args.push(join(dir, 'index.m3u8'));
  const proc = spawnManaged('ffmpeg-hls', args, { command: 'ffmpeg', logFile });
  const port = (server.address() as AddressInfo).port;
  return {
    playlistUrl: `http://127.0.0.1:${port}/index.m3u8`,
    process: proc,
    dir,
    stop: async () => {
      await proc.stop('SIGTERM', 5000);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      removeTempDir(dir);
    },
  };
}
