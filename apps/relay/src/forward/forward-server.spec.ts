import { requestPath } from './forward-server';

describe('requestPath', () => {
  it('reads the path and the ticket of an origin-form target', () => {
    expect(requestPath('/forward/abc.flv?ticket=t0k')).toEqual({
      pathname: '/forward/abc.flv',
      ticket: 't0k',
    });
    expect(requestPath(undefined)).toEqual({ pathname: '/', ticket: null });
  });

  it('says null for a target that is not a URL, instead of throwing', () => {
    expect(requestPath('http://[')).toBeNull();
    expect(requestPath('http://a b/')).toBeNull();
  });
});
