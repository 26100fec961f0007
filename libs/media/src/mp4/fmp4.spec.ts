import { childBoxes, findBoxes, readBoxes, readTrun } from '@astral/testing';
import { initSegment, mediaFragment } from './fmp4';
import { Fmp4Sample, Fmp4Track } from './fmp4-types';

const video: Fmp4Track = {
  id: 1,
  kind: 'video',
  codec: 'avc',
  timescale: 90000,
  config: Buffer.from('014d401effe1000567', 'hex'),
  codecString: 'avc1.4d401e',
  width: 640,
  height: 360,
};
const audio: Fmp4Track = {
  id: 2,
  kind: 'audio',
  codec: 'aac',
  timescale: 44100,
  config: Buffer.from([0x12, 0x10]),
  codecString: 'mp4a.40.2',
  sampleRate: 44100,
  channels: 2,
};
const sample = (fill: number, size: number, extra: Partial<Fmp4Sample> = {}): Fmp4Sample => ({
  dts: 0,
  cts: 0,
  duration: 3600,
  keyframe: false,
  data: Buffer.alloc(size, fill),
  ...extra,
});

describe(initSegment.name, () => {
  const init = initSegment([video, audio]);

  it('is ftyp then moov, sizes adding up to the whole', () => {
    const top = readBoxes(init);
    expect(top.map((b) => b.type)).toEqual(['ftyp', 'moov']);
    expect(top.reduce((n, b) => n + b.size, 0)).toBe(init.length);
    expect(top[0].body.toString('latin1', 0, 4)).toBe('iso6');
    expect(top[0].body.toString('latin1', 8)).toContain('cmfc');
  });

  it('has mvhd, one trak per track and a trex per track', () => {
    const moov = childBoxes(init, readBoxes(init)[1]).map((b) => b.type);
    expect(moov).toEqual(['mvhd', 'trak', 'trak', 'mvex']);
    expect(findBoxes(init, 'moov/mvex/trex').map((b) => b.body.readUInt32BE(4))).toEqual([1, 2]);
    expect(findBoxes(init, 'moov/mvhd')[0].body.readUInt32BE(96)).toBe(3); // next_track_ID
  });

  it('writes track ids, 16.16 picture size, timescales and handlers', () => {
    const tkhd = findBoxes(init, 'moov/trak/tkhd');
    expect(tkhd.map((b) => [b.body.readUIntBE(1, 3), b.body.readUInt32BE(12)])).toEqual([
      [3, 1],
      [3, 2],
    ]);
    expect([tkhd[0].body.readUInt32BE(76) / 65536, tkhd[0].body.readUInt32BE(80) / 65536]).toEqual([
      640, 360,
    ]);
    expect(findBoxes(init, 'moov/trak/mdia/mdhd').map((b) => b.body.readUInt32BE(12))).toEqual([
      90000, 44100,
    ]);
    const handlers = findBoxes(init, 'moov/trak/mdia/hdlr').map((b) => b.body.toString('latin1', 8, 12));
    expect(handlers).toEqual(['vide', 'soun']);
    expect(
      findBoxes(init, 'moov/trak/mdia/minf').flatMap((m) => childBoxes(init, m).map((b) => b.type)),
    ).toEqual(['vmhd', 'dinf', 'stbl', 'smhd', 'dinf', 'stbl']);
  });

  it('carries avcC and the AudioSpecificConfig inside esds byte for byte', () => {
    const entries = findBoxes(init, 'moov/trak/mdia/minf/stbl/stsd');
    const [avc1, mp4a] = entries.flatMap((stsd) => childBoxes(init, stsd));
    expect([avc1.type, mp4a.type]).toEqual(['avc1', 'mp4a']);
    expect([avc1.body.readUInt16BE(24), avc1.body.readUInt16BE(26)]).toEqual([640, 360]);
    const [avcC] = childBoxes(init, avc1);
    expect(avcC.type === 'avcC' && avcC.body.equals(video.config)).toBe(true);
    expect([mp4a.body.readUInt16BE(16), mp4a.body.readUInt32BE(24) >>> 16]).toEqual([2, 44100]);
    const [esds] = childBoxes(init, mp4a);
    expect(esds.type).toBe('esds');
    // ES_Descriptor > DecoderConfigDescriptor (0x40 MPEG-4 audio) > DecoderSpecificInfo 0x05, 2 bytes: the ASC.
    expect(esds.body.includes(Buffer.from([0x04, 0x11, 0x40, 0x15]))).toBe(true);
    expect(esds.body.includes(Buffer.from([0x05, 0x02, 0x12, 0x10]))).toBe(true);
  });

  it('writes hvc1 + hvcC for HEVC', () => {
    const hevc = { ...video, codec: 'hevc' as const, config: Buffer.from('01016000', 'hex') };
    const out = initSegment([hevc]);
    const [entry] = findBoxes(out, 'moov/trak/mdia/minf/stbl/stsd').flatMap((s) => childBoxes(out, s));
    expect(entry.type).toBe('hvc1');
    expect(childBoxes(out, entry).map((b) => [b.type, b.body.toString('hex')])).toEqual([
      ['hvcC', '01016000'],
    ]);
  });
});

describe(mediaFragment.name, () => {
  const videoSamples = [
    sample(0xa1, 100, { keyframe: true, cts: 7200 }),
    sample(0xa2, 10, { cts: -3600 }),
    sample(0xa3, 1),
  ];
  const audioSamples = [
    sample(0xb1, 7, { duration: 1024, keyframe: true }),
    sample(0xb2, 9, { duration: 1024 }),
  ];
  const bigDts = 2 ** 32 * 3 + 12345; // past 32 bits: tfdt must be version 1
  const frag = mediaFragment(42, [
    { track: video, baseDecodeTime: bigDts, samples: videoSamples },
    { track: audio, baseDecodeTime: 88200, samples: audioSamples },
  ]);

  it('is one moof and one mdat, sizes adding up, mdat holding every sample byte', () => {
    const top = readBoxes(frag);
    expect(top.map((b) => b.type)).toEqual(['moof', 'mdat']);
    expect(top[0].size + top[1].size).toBe(frag.length);
    expect(top[1].body.length).toBe(100 + 10 + 1 + 7 + 9);
    expect(childBoxes(frag, top[0]).map((b) => b.type)).toEqual(['mfhd', 'traf', 'traf']);
    expect(findBoxes(frag, 'moof/mfhd')[0].body.readUInt32BE(4)).toBe(42);
  });

  it('writes tfhd default-base-is-moof with the track id and a 64-bit tfdt', () => {
    const tfhd = findBoxes(frag, 'moof/traf/tfhd').map((b) => [
      b.body.readUIntBE(1, 3),
      b.body.readUInt32BE(4),
    ]);
    expect(tfhd).toEqual([
      [0x020000, 1],
      [0x020000, 2],
    ]);
    const tfdt = findBoxes(frag, 'moof/traf/tfdt').map((b) => [b.body[0], Number(b.body.readBigUInt64BE(4))]);
    expect(tfdt).toEqual([
      [1, bigDts],
      [1, 88200],
    ]);
  });

  it('points each trun data offset (from the moof start) at its first sample byte', () => {
    const truns = findBoxes(frag, 'moof/traf/trun').map(readTrun);
    for (const [i, fill] of [0xa1, 0xb1].entries()) {
      expect(truns[i].version).toBe(1);
      expect(frag[truns[i].dataOffset!]).toBe(fill);
    }
    expect(truns[1].dataOffset! - truns[0].dataOffset!).toBe(111);
    expect(truns[1].dataOffset! + 16).toBe(frag.length);
  });

  it('lists per-sample duration, size, sync flags and signed composition offsets', () => {
    const [v, a] = findBoxes(frag, 'moof/traf/trun').map(readTrun);
    expect(v.samples).toEqual([
      { duration: 3600, size: 100, flags: 0x02000000, cts: 7200 },
      { duration: 3600, size: 10, flags: 0x01010000, cts: -3600 },
      { duration: 3600, size: 1, flags: 0x01010000, cts: 0 },
    ]);
    expect(a.samples.map((s) => [s.duration, s.size, s.flags])).toEqual([
      [1024, 7, 0x02000000],
      [1024, 9, 0x02000000],
    ]);
  });

  it('copies the sample bytes, leaving no view into the inputs', () => {
    const mdat = readBoxes(frag)[1].body;
    expect(mdat.subarray(0, 100).equals(videoSamples[0].data)).toBe(true);
    videoSamples[0].data.fill(0);
    expect(mdat[0]).toBe(0xa1);
  });

  it('leaves out runs without samples', () => {
    const audioOnly = mediaFragment(1, [
      { track: video, baseDecodeTime: 0, samples: [] },
      { track: audio, baseDecodeTime: 0, samples: audioSamples },
    ]);
    expect(findBoxes(audioOnly, 'moof/traf/tfhd').map((b) => b.body.readUInt32BE(4))).toEqual([2]);
    const [trun] = findBoxes(audioOnly, 'moof/traf/trun').map(readTrun);
    expect(audioOnly[trun.dataOffset!]).toBe(0xb1);
  });
});
