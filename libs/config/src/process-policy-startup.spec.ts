import {
  RedisUnreachableError,
  explainStartupError,
  isRedisConnectError,
  withoutCredentials,
} from './process-policy-startup';

describe('explainStartupError', () => {
  const url = 'redis://user:pa55word@127.0.0.1:6390/2';

  it("turns ioredis's 'Connection is closed.' into an error naming the URL without credentials and what to do", () => {
    const out = explainStartupError(new Error('Connection is closed.'), url);
    expect(out).toBeInstanceOf(RedisUnreachableError);
    const message = (out as Error).message;
    expect(message).toContain('redis://127.0.0.1:6390/2');
    expect(message).toContain('Connection is closed.');
    expect(message).toContain('REDIS_URL / --redis');
    expect(message).not.toContain('pa55word');
    expect(message).not.toContain('user');
  });

  it('recognises socket errors aimed at the Redis port or host, not at another service', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' });
    const pg = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND redis.internal'), { code: 'ENOTFOUND' });
    expect(isRedisConnectError(refused, url)).toBe(true);
    expect(isRedisConnectError(pg, url)).toBe(false);
    expect(isRedisConnectError(dns, 'redis://redis.internal:6379')).toBe(true);
  });

  it('passes other errors through unchanged, and does not wrap twice', () => {
    const other = new Error('EADDRINUSE: address already in use 127.0.0.1:7000');
    expect(explainStartupError(other, url)).toBe(other);
    const once = explainStartupError(new Error('Connection is closed.'), url);
    expect(explainStartupError(once, url)).toBe(once);
    expect(explainStartupError(new Error('Connection is closed.'), undefined)).toBeInstanceOf(Error);
  });

  it('withoutCredentials keeps host, port and db', () => {
    expect(withoutCredentials('redis://:secret@10.0.0.1:6380/1')).toBe('redis://10.0.0.1:6380/1');
    expect(withoutCredentials('not a url')).toBe('(an unparsable URL)');
  });
});
