import fc from 'fast-check';
import { jsonDepthExceeds } from './json-depth';

function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe('jsonDepthExceeds', () => {
  it('finds a body nested 3000 levels deep, and passes a shallow one', () => {
    expect(jsonDepthExceeds('['.repeat(3000) + ']'.repeat(3000), 32)).toBe(true);
    expect(jsonDepthExceeds('{"a":'.repeat(3000) + '1' + '}'.repeat(3000), 32)).toBe(true);
    expect(jsonDepthExceeds('{"nodeId":"x","stats":{"streams":[{"forwards":[{}]}]}}', 32)).toBe(false);
  });

  it('ignores brackets inside strings and escaped quotes', () => {
    expect(jsonDepthExceeds(JSON.stringify({ s: '[[[[[[[[[[\\"{{{{{{{{' }), 3)).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify(['"]]]]', [[['x']]]]), 3)).toBe(true);
  });

  it('agrees with the real depth of any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 8 }), (value, limit) => {
        expect(jsonDepthExceeds(JSON.stringify(value), limit)).toBe(depthOf(value) > limit);
      }),
    );
  });
});
