import { rateClassOf } from './rate-limits';

describe(rateClassOf.name, () => {
  it('counts methods that change something as writes, the rest as reads', () => {
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE', 'delete']) expect(rateClassOf(m)).toBe('writes');
    for (const m of ['GET', 'HEAD', 'OPTIONS']) expect(rateClassOf(m)).toBe('reads');
  });
});
