import { readFileSync } from 'node:fs';
import { X265_HVCC_320X240, sampleFlvPath } from '@astral/testing';
import { FlvParser } from '../flv/flv-parser';
import { FlvTag, FlvTagType, isAudioSequenceHeader, isVideoSequenceHeader } from '../flv/flv-tag';
import { parseHevcSps, spsOfHvcc } from '../hevc/hevc-sps';
import { hevcCodecString, trackFromSequenceHeader } from './flv-codecs';

const tags = new FlvParser().push(readFileSync(sampleFlvPath()));
const video = (data: Buffer): FlvTag => ({ type: FlvTagType.Video, timestamp: 0, streamId: 0, data });
const audio = (data: Buffer): FlvTag => ({ type: FlvTagType.Audio, timestamp: 0, streamId: 0, data });

const HVCC = X265_HVCC_320X240;
const exHeader = (record: Buffer, fourCc = 'hvc1'): FlvTag =>
  video(Buffer.concat([Buffer.from([0x90]), Buffer.from(fourCc, 'latin1'), record]));

describe(trackFromSequenceHeader.name, () => {
  it('reads the sample H.264 Main 640x360 track from its AVC sequence header', () => {
    const header = tags.find(isVideoSequenceHeader)!;
    expect(trackFromSequenceHeader(header)).toMatchObject({
      id: 1,
      kind: 'video',
      codec: 'avc',
      timescale: 90000,
      codecString: `avc1.4d40${header.data[8].toString(16).padStart(2, '0')}`,
      width: 640,
      height: 360,
    });
    expect(trackFromSequenceHeader(header)!.config.buffer).toBe(header.data.buffer); // a view
  });

  it('reads the sample AAC LC 44.1 kHz stereo track from its AudioSpecificConfig', () => {
    const track = trackFromSequenceHeader(tags.find(isAudioSequenceHeader)!);
    expect(track).toMatchObject({ id: 2, kind: 'audio', codec: 'aac', codecString: 'mp4a.40.2' });
    expect(track).toMatchObject({ timescale: 44100, sampleRate: 44100, channels: 2 });
  });

  it('reads an explicit 24-bit sampling rate, HE-AAC and the escaped object type', () => {
    // AOT 2, index 15, rate 0x00bb80 (48000), 1 channel: 00010 1111 000000001011101110000000 0001
    const explicit = Buffer.from([0b00010111, 0b10000000, 0b01011101, 0b11000000, 0b00001000]);
    expect(trackFromSequenceHeader(audio(Buffer.concat([Buffer.from([0xaf, 0]), explicit])))).toMatchObject({
      sampleRate: 48000,
      timescale: 48000,
      channels: 1,
    });
    // AOT 5 (SBR), index 6 (24000), 2 channels.
    const he = trackFromSequenceHeader(audio(Buffer.from([0xaf, 0, 0b00101011, 0b00010000])));
    expect(he).toMatchObject({ codecString: 'mp4a.40.5', sampleRate: 24000, channels: 2 });
    // AOT 31 escape + 6 bits (10): 42 (USAC), index 3 (48000), 2 channels.
    const usac = trackFromSequenceHeader(audio(Buffer.from([0xaf, 0, 0b11111001, 0b01000110, 0b01000000])));
    expect(usac).toMatchObject({ codecString: 'mp4a.40.42', sampleRate: 48000, channels: 2 });
  });

  it('reads an Enhanced RTMP HEVC SequenceStart: hvcC as is, Annex E codec string, size from the SPS', () => {
    const track = trackFromSequenceHeader(exHeader(HVCC));
    expect(track).toMatchObject({
      id: 1,
      kind: 'video',
      codec: 'hevc',
      timescale: 90000,
      width: 320,
      height: 240,
    });
    expect(track!.codecString).toBe('hvc1.1.6.L60.90');
    expect(track!.config.equals(HVCC)).toBe(true);
  });

  it('writes the Annex E codec string for other profiles, tiers and spaces', () => {
    const main10High = Buffer.from(HVCC);
    main10High[1] = 0x22; // space 0, high tier, profile 2
    main10High.writeUInt32BE(0x20000000, 2); // compatible with profile 2 only
    main10High[12] = 153;
    expect(hevcCodecString(main10High)).toBe('hvc1.2.4.H153.90');
    const spaced = Buffer.from(HVCC);
    spaced[1] = 0x41;
    spaced.fill(0, 6, 12);
    expect(hevcCodecString(spaced)).toBe('hvc1.A1.6.L60');
    spaced[7] = 0xb0;
    expect(hevcCodecString(spaced)).toBe('hvc1.A1.6.L60.0.B0');
  });

  it('reads the picture size from an HEVC SPS, and nothing from foreign bytes', () => {
    const sps = spsOfHvcc(HVCC)!;
    expect(parseHevcSps(sps)).toEqual({ width: 320, height: 240 });
    expect(parseHevcSps(Buffer.from([0x40, 0x01, 0x0c, 0x01]))).toBeNull(); // a VPS
    for (let n = 0; n < sps.length; n++) expect(() => parseHevcSps(sps.subarray(0, n))).not.toThrow();
  });

  it('yields null for other codecs, frames and short or broken records, never throws', () => {
    expect(trackFromSequenceHeader(exHeader(HVCC, 'av01'))).toBeNull();
    expect(
      trackFromSequenceHeader(tags.find((t) => t.type === FlvTagType.Video && t.data[1] === 1)!),
    ).toBeNull();
    expect(trackFromSequenceHeader(tags[0])).toBeNull(); // onMetaData
    expect(trackFromSequenceHeader(audio(Buffer.from([0x2f, 0, 0x12, 0x10])))).toBeNull(); // MP3
    expect(trackFromSequenceHeader(audio(Buffer.from([0xaf, 0, 0x00, 0x10])))).toBeNull(); // AOT 0
    for (const header of [
      tags.find(isVideoSequenceHeader)!,
      tags.find(isAudioSequenceHeader)!,
      exHeader(HVCC),
    ]) {
      for (let n = 0; n < header.data.length; n++) {
        expect(() => trackFromSequenceHeader({ ...header, data: header.data.subarray(0, n) })).not.toThrow();
      }
    }
  });
});
