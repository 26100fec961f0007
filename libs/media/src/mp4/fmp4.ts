import { UNITY_MATRIX, box, descriptor, fourCc, fullBox, u16, u32, zeros } from './boxes';
import { Fmp4Track, Fmp4TrackRun } from './fmp4-types';

/**
 * Astral's CMAF (fragmented MP4, ISO 14496-12) writer: FLV already carries the decoder configurations
 * (avcC, hvcC, AudioSpecificConfig) and length-prefixed NAL units, so remuxing is box writing only.
 */

/** mvhd timescale: the movie header carries no durations in a fragmented file, any value will do. */
const MOVIE_TIMESCALE = 1000;

/** ftyp + moov (mvhd, one trak per track, mvex with one trex per track). */
export function initSegment(tracks: Fmp4Track[]): Buffer {
  const ftyp = box(
    'ftyp',
    fourCc('iso6'),
    u32(0),
    fourCc('iso6'),
    fourCc('cmfc'),
    fourCc('mp41'),
    fourCc('dash'),
  );
  const nextTrackId = Math.max(0, ...tracks.map((t) => t.id)) + 1;
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    u32(0, 0, MOVIE_TIMESCALE, 0), // creation, modification, timescale, duration
    u32(0x00010000),
    u16(0x0100),
    zeros(10), // rate 1.0, volume 1.0, reserved
    UNITY_MATRIX,
    zeros(24), // pre_defined
    u32(nextTrackId),
  );
  const trex = tracks.map((t) => fullBox('trex', 0, 0, u32(t.id, 1, 0, 0, 0)));
  const moov = box('moov', mvhd, ...tracks.map(trak), box('mvex', ...trex));
  return Buffer.concat([ftyp, moov]);
}

function trak(t: Fmp4Track): Buffer {
  const video = t.kind === 'video';
  const tkhd = fullBox(
    'tkhd',
    0,
    0x000003, // track_enabled | track_in_movie
    u32(0, 0, t.id, 0, 0), // creation, modification, track_ID, reserved, duration
    zeros(8),
    u16(0, 0, video ? 0 : 0x0100, 0), // layer, alternate_group, volume, reserved
    UNITY_MATRIX,
    u32(video ? (t.width ?? 0) * 0x10000 : 0, video ? (t.height ?? 0) * 0x10000 : 0),
  );
  const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, t.timescale, 0), u16(0x55c4, 0)); // language 'und'
  const hdlr = fullBox(
    'hdlr',
    0,
    0,
    u32(0),
    fourCc(video ? 'vide' : 'soun'),
    zeros(12),
    Buffer.from(video ? 'Astral video\0' : 'Astral audio\0', 'latin1'),
  );
  const mediaHeader = video ? fullBox('vmhd', 0, 1, u16(0, 0, 0, 0)) : fullBox('smhd', 0, 0, u16(0, 0));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), sampleEntry(t)),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0, 0)),
    fullBox('stco', 0, 0, u32(0)),
  );
  return box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', mediaHeader, dinf, stbl)));
}

/** avc1+avcC, hvc1+hvcC (VisualSampleEntry, ISO 14496-12 12.1.3) or mp4a+esds (AudioSampleEntry, 12.2.3). */
function sampleEntry(t: Fmp4Track): Buffer {
  const common = [zeros(6), u16(1)]; // reserved, data_reference_index
  if (t.codec === 'aac') {
    const rate = t.sampleRate ?? t.timescale;
    const audio = [zeros(8), u16(t.channels ?? 2, 16, 0, 0), u32(rate <= 0xffff ? rate * 0x10000 : 0)];
    return box('mp4a', ...common, ...audio, esds(t));
  }
  const visual = [
    zeros(16), // pre_defined, reserved, pre_defined[3]
    u16(t.width ?? 0, t.height ?? 0),
    u32(0x00480000, 0x00480000, 0), // 72 dpi, 72 dpi, reserved
    u16(1), // frame_count
    zeros(32), // compressorname
    u16(0x0018, 0xffff), // depth, pre_defined -1
  ];
  const [entry, config] = t.codec === 'hevc' ? ['hvc1', 'hvcC'] : ['avc1', 'avcC'];
  return box(entry, ...common, ...visual, box(config, t.config));
}

/** ES_Descriptor > DecoderConfigDescriptor (MPEG-4 Audio 0x40, AudioStream) > DecoderSpecificInfo (the ASC). */
function esds(t: Fmp4Track): Buffer {
  const decoderConfig = descriptor(0x04, [0x40, 0x15], zeros(3), u32(0, 0), descriptor(0x05, t.config));
  return fullBox('esds', 0, 0, descriptor(0x03, u16(t.id), [0], decoderConfig, descriptor(0x06, [0x02])));
}

const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800; // offset, duration, size, flags, cts
const SYNC_SAMPLE = 0x02000000; // sample_depends_on = 2 (an I picture)
const NON_SYNC_SAMPLE = 0x01010000; // sample_depends_on = 1, sample_is_non_sync_sample
/** tfhd (16) + tfdt v1 (20) + trun header (20) + traf header (8); each sample adds 16 bytes of trun. */
const TRAF_FIXED = 8 + 16 + 20 + 20;
const MFHD_SIZE = 16;

function writeHead(b: Buffer, at: number, size: number, type: string, versionFlags?: number): number {
  b.writeUInt32BE(size, at);
  b.write(type, at + 4, 4, 'latin1');
  if (versionFlags === undefined) return at + 8;
  b.writeUInt32BE(versionFlags >>> 0, at + 8);
  return at + 12;
}

/**
 * moof (mfhd with this sequence number; per run with samples a traf: tfhd default-base-is-moof, tfdt v1,
 * trun v1 with data offset, durations, sizes, flags and signed composition offsets) + one mdat holding the
 * runs' samples in order. One allocation; each sample's bytes copied once.
 */
export function mediaFragment(sequenceNumber: number, runs: Fmp4TrackRun[]): Buffer {
  const present = runs.filter((r) => r.samples.length > 0);
  let moofSize = 8 + MFHD_SIZE;
  let dataSize = 0;
  for (const run of present) {
    moofSize += TRAF_FIXED + 16 * run.samples.length;
    for (const s of run.samples) dataSize += s.data.length;
  }
  const mdatSize = 8 + dataSize;
  if (moofSize + mdatSize > 0xffffffff) throw new RangeError(`fragment of ${dataSize} bytes is over 4 GiB`);
  const b = Buffer.allocUnsafe(moofSize + mdatSize);
  let at = writeHead(b, 0, moofSize, 'moof');
  at = writeHead(b, at, MFHD_SIZE, 'mfhd', 0);
  at = b.writeUInt32BE(sequenceNumber >>> 0, at);
  let dataAt = moofSize + 8; // where the next run's samples go (also its data offset from the moof start)
  for (const run of present) {
    const n = run.samples.length;
    at = writeHead(b, at, TRAF_FIXED + 16 * n, 'traf');
    at = writeHead(b, at, 16, 'tfhd', 0x020000); // default-base-is-moof
    at = b.writeUInt32BE(run.track.id, at);
    at = writeHead(b, at, 20, 'tfdt', 0x01000000); // version 1: 64-bit baseMediaDecodeTime
    at = b.writeUInt32BE(Math.floor(run.baseDecodeTime / 0x100000000), at);
    at = b.writeUInt32BE(run.baseDecodeTime % 0x100000000, at);
    at = writeHead(b, at, 20 + 16 * n, 'trun', 0x01000000 | TRUN_FLAGS);
    at = b.writeUInt32BE(n, at);
    at = b.writeInt32BE(dataAt, at);
    for (const s of run.samples) {
      at = b.writeUInt32BE(s.duration >>> 0, at);
      at = b.writeUInt32BE(s.data.length, at);
      at = b.writeUInt32BE(s.keyframe ? SYNC_SAMPLE : NON_SYNC_SAMPLE, at);
      at = b.writeInt32BE(s.cts | 0, at);
      dataAt += s.data.copy(b, dataAt);
    }
  }
  writeHead(b, moofSize, mdatSize, 'mdat');
  return b;
}
