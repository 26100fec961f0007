import { pathBelow, samePath } from './upstream-path';

describe('pathBelow', () => {
  it('appends this node to the upstream path; hops count the nodes above it', () => {
    expect(pathBelow(['src'], 'a')).toEqual({ path: ['src', 'a'], hops: 1 });
    expect(pathBelow(['src', 'b', 'c'], 'a')).toEqual({ path: ['src', 'b', 'c', 'a'], hops: 3 });
  });

  it('reports a loop when this node is already on the upstream path', () => {
    expect(pathBelow(['src', 'a', 'b'], 'a')).toEqual({ loop: true });
    expect(pathBelow(['a'], 'a')).toEqual({ loop: true });
  });

  it('rejects replies that are not a list of node ids', () => {
    for (const bad of [
      undefined,
      null,
      'src',
      [],
      [1, 2],
      ['src', ''],
      { 0: 'src' },
      Array.from({ length: 1001 }, () => 'x'),
    ]) {
      expect(pathBelow(bad, 'a')).toBeNull();
    }
  });

  it('does not share the caller’s array', () => {
    const up = ['src'];
    const r = pathBelow(up, 'a');
    up.push('z');
    expect(r).toEqual({ path: ['src', 'a'], hops: 1 });
  });
});

describe('samePath', () => {
  it('compares element by element', () => {
    expect(samePath(['a', 'b'], ['a', 'b'])).toBe(true);
    expect(samePath(['a', 'b'], ['a', 'c'])).toBe(false);
    expect(samePath(['a'], ['a', 'b'])).toBe(false);
  });
});
