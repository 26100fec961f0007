import { randomBytes } from 'node:crypto';

const MAX_SLUG = 50;

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

/** A new stream id such as `my-show-3f9a2c`; it matches STREAM_ID of the contracts. */
export function newStreamId(
  title: string,
  random: () => string = () => randomBytes(3).toString('hex'),
): string {
  return `${slugify(title)}-${random()}`;
}
