import { urlHost } from './url-host';

describe('urlHost', () => {
  it('brackets IPv6 addresses once and leaves names and IPv4 as they are', () => {
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('fd00::5')).toBe('[fd00::5]');
    expect(urlHost('[::1]')).toBe('[::1]');
    expect(urlHost('127.0.0.1')).toBe('127.0.0.1');
    expect(urlHost('seeder-0.astral')).toBe('seeder-0.astral');
  });
});
