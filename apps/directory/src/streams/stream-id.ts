import { randomBytes } from 'node:crypto';
import { STREAM_ID_MAX_LENGTH } from '@astral/contracts';

/** The random suffix: a dash and six hex digits. */
const SUFFIX_LENGTH = 7;
/** The readable part's bound: room for the suffix within STREAM_ID_MAX_LENGTH, and some to spare. */
export const MAX_SLUG = Math.min(50, STREAM_ID_MAX_LENGTH - SUFFIX_LENGTH);

/** The readable part of a stream id: lowercase ASCII letters, digits and single dashes. */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_SLUG)
    .replace(/-+$/, '');
  return slug || 'stream';
}

/** A new stream id such as `my-show-3f9a2c`; it matches STREAM_ID_PATTERN of the contracts. */
export function newStreamId(
  title: string,
  random: () => string = () => randomBytes(3).toString('hex'),
): string {
  return `${slugify(title)}-${random()}`;
}
