import { FlvTag, FlvTagType } from './flv-tag';

const NAME = 'astralClose';

function amf0String(s: string): Buffer {
  const body = Buffer.from(s, 'utf8').subarray(0, 0xffff);
  const b = Buffer.alloc(3 + body.length);
  b[0] = 0x02;
  b.writeUInt16BE(body.length, 1);
  body.copy(b, 3);
  return b;
}

/**
 * A script tag a relay sends just before it closes a forward on purpose, carrying the reason
 * (e.g. "leaving"), so the downstream relay can re-parent at once instead of waiting for a stall.
 */
export function encodeCloseTag(reason: string, timestamp = 0): FlvTag {
  return {
    type: FlvTagType.Script,
    timestamp,
    streamId: 0,
    data: Buffer.concat([amf0String(NAME), amf0String(reason)]),
  };
}

/** The reason of a close tag, or null if the tag is something else. */
export function readCloseTag(tag: FlvTag): string | null {
  const d = tag.data;
  if (tag.type !== FlvTagType.Script || d.length < 3 + NAME.length || d[0] !== 0x02) return null;
  if (d.readUInt16BE(1) !== NAME.length || d.toString('latin1', 3, 3 + NAME.length) !== NAME) return null;
  const at = 3 + NAME.length;
  if (d.length < at + 3 || d[at] !== 0x02) return '';
  const len = d.readUInt16BE(at + 1);
  return d.toString('utf8', at + 3, Math.min(d.length, at + 3 + len));
}
