import { OperatorToken, bearerToken } from './operator-token';

describe(OperatorToken.name, () => {
  const token = 'a-very-long-operator-token-of-40-chars!!';

  it('matches the configured token only', () => {
    const sut = new OperatorToken(token);
    expect(sut.configured).toBe(true);
    expect(sut.matches(token)).toBe(true);
    expect(sut.matches(token.slice(0, -1))).toBe(false);
    expect(sut.matches(`${token}x`)).toBe(false);
    expect(sut.matches('')).toBe(false);
  });

  it('matches nothing when no token is configured', () => {
    const sut = new OperatorToken(undefined);
    expect(sut.configured).toBe(false);
    expect(sut.matches('')).toBe(false);
    expect(sut.matches(token)).toBe(false);
  });
});

describe(bearerToken.name, () => {
  it('reads a bearer token, and tells a missing header from another scheme', () => {
    expect(bearerToken('Bearer abc')).toEqual({ kind: 'token', token: 'abc' });
    expect(bearerToken('bearer abc')).toEqual({ kind: 'token', token: 'abc' });
    expect(bearerToken(undefined)).toEqual({ kind: 'none' });
    expect(bearerToken('Basic dXNlcjpwYXNz')).toEqual({ kind: 'malformed' });
    expect(bearerToken('Bearer ')).toEqual({ kind: 'malformed' });
    expect(bearerToken('Bearer a b')).toEqual({ kind: 'malformed' });
  });
});
