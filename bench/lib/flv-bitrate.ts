import { readFileSync } from 'node:fs';
import { parseFlvFile } from '@astral/media';
import { sampleFlvPath } from '@astral/testing';

/** An FLV file's average bit rate on the wire, bits per second: its size over the span of its tag timestamps. */
export function flvBitrateBps(file: Buffer): number {
  const { tags } = parseFlvFile(file);
  const spanMs = tags[tags.length - 1].timestamp - tags[0].timestamp;
  return (file.length * 8000) / spanMs;
}

/** The bundled sample's average bit rate on the wire, bits per second. */
export function sampleBitrateBps(): number {
  return flvBitrateBps(readFileSync(sampleFlvPath()));
}
