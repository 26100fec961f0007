import { LOCAL_PLAYERS_PATTERN, isLocalPlayer } from './local-address';

describe(isLocalPlayer.name, () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '::FFFF:127.9.9.9'])(
    'counts %s as local with loopback',
    (addr) => expect(isLocalPlayer(addr, 'loopback')).toBe(true),
  );

  it.each([
    '10.0.0.1',
    '192.168.1.2',
    '::ffff:10.0.0.1',
    'fe80::1',
    '128.0.0.1',
    '127.example',
    '',
    undefined,
  ])('counts %s as remote with loopback', (addr) => expect(isLocalPlayer(addr, 'loopback')).toBe(false));

  it('counts nobody as local with none', () => {
    for (const addr of ['127.0.0.1', '::1', '::ffff:127.0.0.1'])
      expect(isLocalPlayer(addr, 'none')).toBe(false);
  });

  it('counts listed addresses and blocks as local after loopback, and nothing else', () => {
    const mode = 'loopback,10.89.0.0/24,192.168.1.7,fd00::/8';
    for (const addr of ['10.89.0.1', '::ffff:10.89.0.200', '192.168.1.7', 'fd00::5', '127.0.0.1'])
      expect(isLocalPlayer(addr, mode)).toBe(true);
    // Its twins: next to the blocks, not in them.
    for (const addr of ['10.89.1.1', '192.168.1.8', 'fe80::1', '8.8.8.8'])
      expect(isLocalPlayer(addr, mode)).toBe(false);
  });

  it('accepts the documented forms and refuses others', () => {
    for (const ok of ['loopback', 'none', 'loopback,10.0.0.0/8', 'loopback,::1/128,10.1.2.3'])
      expect(LOCAL_PLAYERS_PATTERN.test(ok)).toBe(true);
    for (const bad of ['', 'all', 'none,10.0.0.0/8', '10.0.0.0/8', 'loopback,', 'loopback,host.example'])
      expect(LOCAL_PLAYERS_PATTERN.test(bad)).toBe(false);
  });
});
