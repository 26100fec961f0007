import { STREAM_ID_MAX_LENGTH, STREAM_ID_PATTERN } from '@astral/contracts';
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

  it.each(['My Show', '', '!!!', 'x', 'Ü'.repeat(300), 'a-b--c', 'a'.repeat(300)])(
    'matches STREAM_ID_PATTERN for %j',
    (title) => {
      expect(newStreamId(title)).toMatch(STREAM_ID_PATTERN);
      expect(newStreamId(title).length).toBeLessThanOrEqual(STREAM_ID_MAX_LENGTH);
    },
  );
});
