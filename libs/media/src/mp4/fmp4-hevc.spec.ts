import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { childBoxes, findBoxes, probeFile } from '@astral/testing';
import { FlvTag, FlvTagType, isKeyframe, isVideoFrame, isVideoSequenceHeader } from '../flv/flv-tag';
import { trackFromSequenceHeader } from './flv-codecs';
import { sampleFromTag } from './flv-samples';
import { initSegment, mediaFragment } from './fmp4';
import { Fmp4Sample } from './fmp4-types';

const run = promisify(execFile);
const HVC1 = Buffer.from('hvc1', 'latin1');

/** An Enhanced RTMP video tag: IsExHeader | frame type << 4 | packet type, FourCC, then the body. */
function exTag(timestamp: number, frameType: number, packetType: number, ...body: Buffer[]): FlvTag {
  const data = Buffer.concat([Buffer.from([0x80 | (frameType << 4) | packetType]), HVC1, ...body]);
  return { type: FlvTagType.Video, timestamp, streamId: 0, data };
}

function int24(n: number): Buffer {
  const b = Buffer.alloc(3);
  b.writeIntBE(n, 0, 3);
  return b;
}

/**
 * ffmpeg 5.1 cannot write Enhanced RTMP, so the HEVC stream is built here: libx265 encodes 2 s (a keyframe a
 * second, B-frames on) into an MP4; its hvcC and its packets (ffprobe's pos and size: length-prefixed NAL
 * units already) become a SequenceStart and CodedFrames / CodedFramesX tags, which go through the muxer.
 */
describe('the fMP4 muxer on HEVC from Enhanced RTMP tags, checked by ffprobe and ffmpeg', () => {
  const dir = mkdtempSync(join(tmpdir(), 'astral-fmp4-hevc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const source = join(dir, 'x265.mp4');
  const output = join(dir, 'remuxed.mp4');
  let tags: FlvTag[] = [];

  beforeAll(async () => {
    const encode = ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '2'];
    encode.push(
      '-pix_fmt',
      'yuv420p',
      '-c:v',
      'libx265',
      '-x265-params',
      'log-level=error:keyint=25:min-keyint=25',
    );
    await run('ffmpeg', [...encode, '-tag:v', 'hvc1', '-f', 'mp4', source], {
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    const file = readFileSync(source);
    const entry = findBoxes(file, 'moov/trak/mdia/minf/stbl/stsd').flatMap((b) => childBoxes(file, b))[0];
    const hvcC = childBoxes(file, entry).find((b) => b.type === 'hvcC')!.body;
    const { packets } = await probeFile(source);
    const ms = (t?: string): number => Math.round(Number(t) * 1000);
    const shift = -Math.min(0, ...packets.map((p) => ms(p.dts_time))); // FLV time starts at 0
    tags = [exTag(0, 1, 0, hvcC)];
    for (const p of packets) {
      const data = file.subarray(Number(p.pos), Number(p.pos) + Number(p.size));
      const [dts, cts] = [ms(p.dts_time) + shift, ms(p.pts_time) - ms(p.dts_time)];
      const frameType = p.flags.startsWith('K') ? 1 : 2;
      tags.push(cts === 0 ? exTag(dts, frameType, 3, data) : exTag(dts, frameType, 1, int24(cts), data));
    }
    tags.push(exTag(tags[tags.length - 1].timestamp, 1, 2));
  });

  it('builds a stream the FLV predicates read as HEVC: one header, 50 frames, a keyframe a second', () => {
    expect(tags.filter(isVideoSequenceHeader)).toHaveLength(1);
    expect(tags.filter(isVideoFrame)).toHaveLength(50);
    expect(tags.filter((t) => isKeyframe(t) && isVideoFrame(t))).toHaveLength(2);
    expect(tags.some((t) => (t.data[0] & 0x0f) === 1) && tags.some((t) => (t.data[0] & 0x0f) === 3)).toBe(
      true,
    );
  });

  it('muxes it into fMP4 that ffprobe reads as HEVC 320x240 with every frame, and ffmpeg decodes cleanly', async () => {
    const track = trackFromSequenceHeader(tags[0])!;
    expect(track).toMatchObject({ codec: 'hevc', codecString: 'hvc1.1.6.L60.90', width: 320, height: 240 });
    const samples: Fmp4Sample[] = [];
    for (const s of tags.map(sampleFromTag)) {
      if (s)
        samples.push({
          dts: s.dtsMs * 90,
          cts: s.ctsMs * 90,
          duration: 3600,
          keyframe: s.keyframe,
          data: s.data,
        });
    }
    expect(samples).toHaveLength(50);
    const gopStarts = samples.flatMap((s, i) => (s.keyframe ? [i] : []));
    const fragments = gopStarts.map((from, g) => {
      const gop = samples.slice(from, gopStarts[g + 1] ?? samples.length);
      return mediaFragment(g + 1, [{ track, baseDecodeTime: gop[0].dts, samples: gop }]);
    });
    writeFileSync(output, Buffer.concat([initSegment([track]), ...fragments]));

    const { streams, packets } = await probeFile(output);
    expect(streams.map((s) => [s.codec_name, s.width, s.height])).toEqual([['hevc', 320, 240]]);
    expect(packets).toHaveLength(50);
    expect(packets.filter((p) => p.flags.startsWith('K'))).toHaveLength(2);
    const dts = packets.map((p) => Number(p.dts));
    expect(dts.every((t, i) => i === 0 || t > dts[i - 1])).toBe(true);
    const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', output, '-f', 'null', '-'], {
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    expect(stderr.trim()).toBe('');
  });
});
