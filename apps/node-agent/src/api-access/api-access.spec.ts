import {
  ApiAccessPolicy,
  ApiRequest,
  apiHostNames,
  bearerMatches,
  decideApiAccess,
  directoryPageMay,
  hostNameOf,
  needsControl,
} from './api-access';

const TOKEN = 'k'.repeat(43);
const policy: ApiAccessPolicy = {
  token: TOKEN,
  tokenFile: '/data/api-token',
  directoryOrigin: 'http://directory.example:8080',
  hostNames: apiHostNames('127.0.0.1', '10.0.0.5'),
  apiPort: 7000,
};
const req = (r: Partial<ApiRequest>): ApiRequest => ({
  method: 'GET',
  url: '/api/status',
  host: '127.0.0.1:7000',
  ...r,
});

describe(decideApiAccess.name, () => {
  it('serves status reads to a loopback caller without a token', () => {
    expect(decideApiAccess(req({}), policy)).toEqual({ allowed: true, via: 'open' });
    expect(decideApiAccess(req({ url: '/api/settings', host: 'localhost' }), policy).allowed).toBe(true);
    expect(decideApiAccess(req({ url: '/api/nodes?x=1', host: '[::1]:7000' }), policy).allowed).toBe(true);
    expect(decideApiAccess(req({ url: '/api/events' }), policy).allowed).toBe(true);
    expect(decideApiAccess(req({ url: '/api/docs-json' }), policy).allowed).toBe(true);
  });

  it('answers 421 to a Host that does not name this node (DNS rebinding), and serves its own names', () => {
    for (const host of [
      'evil.example',
      'evil.example:7000',
      '127.0.0.1.evil.example',
      undefined,
      '',
      '[::1',
      'a b',
    ]) {
      const sut = decideApiAccess(req({ host }), policy);
      expect(sut).toMatchObject({ allowed: false, status: 421, code: 'misdirected' });
    }
    for (const host of ['10.0.0.5', '10.0.0.5:7000', 'LOCALHOST:7000', '127.0.0.1:18010']) {
      expect(decideApiAccess(req({ host }), policy).allowed).toBe(true);
    }
  });

  it('answers 403 to a foreign page, even on an open read, and serves the directory and its own page', () => {
    for (const origin of [
      'http://evil.example',
      'null',
      'http://127.0.0.1:9999',
      'https://directory.example:8080',
    ]) {
      expect(decideApiAccess(req({ origin }), policy)).toMatchObject({ allowed: false, status: 403 });
      expect(decideApiAccess(req({ origin, method: 'POST', url: '/api/leave' }), policy)).toMatchObject({
        status: 403,
      });
    }
    expect(decideApiAccess(req({ origin: 'http://directory.example:8080' }), policy).allowed).toBe(true);
    expect(decideApiAccess(req({ origin: 'http://127.0.0.1:7000' }), policy).allowed).toBe(true);
  });

  it('needs the token for every state change and for the stream and ticket lists', () => {
    const calls: [string, string][] = [
      ['POST', '/api/leave'],
      ['POST', '/api/streams'],
      ['POST', '/api/streams/s1/watch'],
      ['DELETE', '/api/tickets/t1'],
      ['PATCH', '/api/settings'],
      ['GET', '/api/streams'],
      ['GET', '/API/Streams/'],
      ['HEAD', '/api/tickets'],
      ['GET', '/api/%73tatus'],
    ];
    for (const [method, url] of calls) {
      expect(decideApiAccess(req({ method, url }), policy)).toMatchObject({
        status: 401,
        reason: 'no token',
      });
      const wrong = decideApiAccess(req({ method, url, authorization: `Bearer ${'x'.repeat(43)}` }), policy);
      expect(wrong).toMatchObject({ status: 401, reason: 'wrong token' });
      expect(decideApiAccess(req({ method, url, authorization: `Bearer ${TOKEN}` }), policy)).toEqual({
        allowed: true,
        via: 'token',
      });
    }
  });

  it('says where the token is, and never echoes it', () => {
    const sut = decideApiAccess(
      req({ method: 'POST', url: '/api/leave', authorization: 'Bearer guess' }),
      policy,
    );
    expect(sut.allowed).toBe(false);
    if (sut.allowed) return;
    expect(sut.message).toContain('/data/api-token');
    expect(sut.message).toContain('--api-token');
    expect(sut.message).not.toContain('guess');
  });

  it('lets a directory page ask the node to watch with X-Astral-Control: 1, and no other page', () => {
    const post = { method: 'POST', url: '/api/streams/s1/watch' };
    const directory = 'http://directory.example:8080';
    expect(decideApiAccess(req({ ...post, origin: directory, control: '1' }), policy)).toEqual({
      allowed: true,
      via: 'directory-page',
    });
    expect(decideApiAccess(req({ ...post, origin: directory }), policy)).toMatchObject({ status: 401 });
    expect(decideApiAccess(req({ ...post, origin: directory, control: '1, 1' }), policy)).toMatchObject({
      status: 401,
    });
    expect(decideApiAccess(req({ ...post, control: '1' }), policy)).toMatchObject({ status: 401 });
    expect(
      decideApiAccess(req({ ...post, origin: 'http://127.0.0.1:7000', control: '1' }), policy),
    ).toMatchObject({
      status: 401,
    });
    const noDirectory = { ...policy, directoryOrigin: undefined };
    expect(decideApiAccess(req({ ...post, origin: directory, control: '1' }), noDirectory)).toMatchObject({
      status: 403,
    });
  });

  it('lets a directory page do nothing but watch', () => {
    const directory = { origin: 'http://directory.example:8080', control: '1' };
    for (const [method, url] of [
      ['POST', '/api/streams/s1/seed'],
      ['POST', '/api/leave'],
      ['PATCH', '/api/settings'],
      ['DELETE', '/api/tickets/t1'],
      ['POST', '/api/streams'],
      ['GET', '/api/tickets'],
      ['POST', '/api/streams/s1/watch/x'],
      ['GET', '/api/streams/s1/watch'],
    ]) {
      const sut = decideApiAccess(req({ method, url, ...directory }), policy);
      expect([method, url, sut]).toMatchObject([method, url, { allowed: false, status: 403 }]);
      if (!sut.allowed) expect(sut.message).toContain('only ask this node to watch');
    }
    // The twin: the same page watching, also with a query or a trailing slash; the token may do the rest.
    for (const url of ['/api/streams/s1/watch', '/api/streams/s1/watch/', '/api/streams/s1/watch?x=1']) {
      expect(decideApiAccess(req({ method: 'POST', url, ...directory }), policy)).toEqual({
        allowed: true,
        via: 'directory-page',
      });
    }
    expect(
      decideApiAccess(req({ method: 'POST', url: '/api/leave', authorization: `Bearer ${TOKEN}` }), policy),
    ).toEqual({ allowed: true, via: 'token' });
    expect(directoryPageMay('post', '/api/streams/s1/watch')).toBe(true);
  });

  it('lets preflights through to CORS', () => {
    expect(needsControl('OPTIONS', '/api/leave')).toBe(false);
    expect(needsControl('GET', '/api/status/')).toBe(false);
    expect(needsControl('GET', '/api/tickets')).toBe(true);
  });
});

describe(hostNameOf.name, () => {
  it('takes the name without its port', () => {
    expect(hostNameOf('Example.org:80')).toBe('example.org');
    expect(hostNameOf('[::1]:7000')).toBe('[::1]');
    expect(hostNameOf('[::1]x')).toBeUndefined();
    expect(apiHostNames('::', 'fd00::2').has('[fd00::2]')).toBe(true);
  });
});

describe(bearerMatches.name, () => {
  it('accepts the token only as a bearer token', () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer ${TOKEN} `, TOKEN)).toBe(true);
    expect(bearerMatches(TOKEN, TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
  });
});
