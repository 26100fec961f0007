import { isLocalPlayer } from './local-address';

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
});
