import { STREAM_ID } from '@astral/contracts';
import { newStreamId, slugify } from './stream-id';

describe(slugify.name, () => {
  it.each([
    ['My Show', 'my-show'],
    ['  Ça va? Très bien!  ', 'ca-va-tres-bien'],
    ['---', 'stream'],
    ['日本語', 'stream'],
    ['a'.repeat(80), 'a'.repeat(50)],
    [`${'a'.repeat(49)} b`, 'a'.repeat(49)],
  ])('%j -> %j', (title, slug) => {
    expect(slugify(title)).toBe(slug);
  });
});

describe(newStreamId.name, () => {
  it('appends a random suffix', () => {
    expect(newStreamId('My Show', () => '3f9a2c')).toBe('my-show-3f9a2c');
  });

  it.each(['My Show', '', '!!!', 'x', 'Ü'.repeat(300), 'a-b--c'])('matches STREAM_ID for %j', (title) => {
    expect(newStreamId(title)).toMatch(STREAM_ID);
  });
});
