import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mediaEntries, parseMediaPlaylist } from './hls-media-list';

/**
 * Decodability of a stream's HLS media as ffprobe sees it: the init segment and two consecutive media
 * segments fetched from a playlist, probed as one fMP4 file (codecs, timestamps across the segment boundary)
 * and each segment on its own (does it start with a keyframe?). Used by bench/hls.ts and test/hls.e2e-spec.ts.
 */

export interface ProbedPacket {
  codec_type: string;
  dts_time?: string;
  pts_time?: string;
  flags?: string;
}

export interface HlsProbe {
  segments: string[];
  videoCodec: string | null;
  audioCodec: string | null;
  videoPackets: number;
  audioPackets: number;
  /** dts never goes back within either stream, across both segments. */
  monotonic: boolean;
  /** The first video packet of each segment, probed alone, has the K flag. */
  keyframeStarts: boolean[];
  /** h264 + aac, monotonic, every segment starting on a keyframe. */
  decodable: boolean;
}

function ffprobeJson(file: string, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      ['-v', 'error', ...args, '-of', 'json', file],
      { timeout: 30_000, killSignal: 'SIGKILL', maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`ffprobe ${file}: ${err.message.split('\n')[0]} ${stderr.slice(0, 500)}`));
        else resolve(JSON.parse(stdout) as Record<string, unknown>);
      },
    );
  });
}

async function getBytes(url: string): Promise<Buffer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${body.toString('utf8').slice(0, 300)}`);
  return body;
}

/** Packets of a file: its streams' codecs and every packet's type, dts and flags. */
export async function probePackets(
  file: string,
): Promise<{ streams: { codec_type: string; codec_name: string }[]; packets: ProbedPacket[] }> {
  const out = await ffprobeJson(file, [
    '-show_entries',
    'stream=codec_type,codec_name:packet=codec_type,dts_time,pts_time,flags',
  ]);
  return {
    streams: (out.streams ?? []) as { codec_type: string; codec_name: string }[],
    packets: (out.packets ?? []) as ProbedPacket[],
  };
}

/** Whether dts never decreases within each stream type. */
export function monotonicDts(packets: ProbedPacket[]): boolean {
  const last = new Map<string, number>();
  for (const p of packets) {
    if (p.dts_time === undefined || p.dts_time === 'N/A') continue;
    const t = Number(p.dts_time);
    const prev = last.get(p.codec_type);
    if (prev !== undefined && t < prev) return false;
    last.set(p.codec_type, t);
  }
  return true;
}

/**
 * Fetches `playlistUrl`, takes the newest two consecutive complete segments that share an init segment,
 * writes init+segments into `dir` and probes them.
 */
export async function probeHlsMedia(playlistUrl: string, dir: string): Promise<HlsProbe> {
  const text = (await getBytes(playlistUrl)).toString('utf8');
  const segments = mediaEntries(parseMediaPlaylist(text)).filter((e) => e.kind === 'segment');
  let pair: [(typeof segments)[number], (typeof segments)[number]] | null = null;
  for (let i = segments.length - 1; i > 0 && !pair; i--) {
    const [a, b] = [segments[i - 1], segments[i]];
    if (b.msn === a.msn + 1 && a.mapUri && a.mapUri === b.mapUri && !b.discontinuity) pair = [a, b];
  }
  if (!pair)
    throw new Error(`no two consecutive complete segments in ${playlistUrl}:\n${text.slice(0, 1500)}`);
  const url = (uri: string): string => new URL(uri, playlistUrl).toString();
  const init = await getBytes(url(pair[0].mapUri!));
  const media = await Promise.all(pair.map((s) => getBytes(url(s.uri))));
  const both = join(dir, `probe-${pair[0].msn}-${pair[1].msn}.mp4`);
  writeFileSync(both, Buffer.concat([init, ...media]));
  const whole = await probePackets(both);
  const keyframeStarts: boolean[] = [];
  for (const [i, m] of media.entries()) {
    const one = join(dir, `probe-${pair[i].msn}.mp4`);
    writeFileSync(one, Buffer.concat([init, m]));
    const firstVideo = (await probePackets(one)).packets.find((p) => p.codec_type === 'video');
    keyframeStarts.push(Boolean(firstVideo?.flags?.startsWith('K')));
  }
  const codec = (type: string): string | null =>
    whole.streams.find((s) => s.codec_type === type)?.codec_name ?? null;
  const count = (type: string): number => whole.packets.filter((p) => p.codec_type === type).length;
  const result = {
    segments: pair.map((s) => s.uri),
    videoCodec: codec('video'),
    audioCodec: codec('audio'),
    videoPackets: count('video'),
    audioPackets: count('audio'),
    monotonic: monotonicDts(whole.packets),
    keyframeStarts,
  };
  return {
    ...result,
    decodable:
      result.videoCodec === 'h264' &&
      result.audioCodec === 'aac' &&
      result.videoPackets > 0 &&
      result.audioPackets > 0 &&
      result.monotonic &&
      keyframeStarts.every(Boolean),
  };
}

/** The dts (ms) of the first video packet of an init + media segment pair, written to `file` and probed. */
export async function firstVideoDtsMs(init: Buffer, segment: Buffer, file: string): Promise<number | null> {
  writeFileSync(file, Buffer.concat([init, segment]));
  const first = (await probePackets(file)).packets.find((p) => p.codec_type === 'video');
  const dts = Number(first?.dts_time);
  return first && Number.isFinite(dts) ? Math.round(dts * 1000) : null;
}
