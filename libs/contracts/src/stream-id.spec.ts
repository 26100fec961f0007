import 'reflect-metadata';
import { STREAM_ID_MAX_LENGTH, STREAM_ID_MIN_LENGTH, STREAM_ID_PATTERN } from './streams';

describe('STREAM_ID_PATTERN', () => {
  it.each(['abc', 'my-show-3f9a2c', '0-0', 'a'.repeat(STREAM_ID_MAX_LENGTH)])('accepts %j', (id) => {
    expect(STREAM_ID_PATTERN.test(id)).toBe(true);
  });

  it.each([
    'a'.repeat(STREAM_ID_MIN_LENGTH - 1),
    'a'.repeat(STREAM_ID_MAX_LENGTH + 1),
    '-abc',
    'ABC',
    'a_b',
    'a/b',
    'abc\n',
    '',
  ])('refuses %j', (id) => {
    expect(STREAM_ID_PATTERN.test(id)).toBe(false);
  });
});
