import { PLAY_TOKEN_REFUSALS, generateNodeKeys, signPlayToken } from '@astral/identity';
import { UploadBudget } from '../forward/upload-budget';
import { PlayerBudget } from './player-budget';

const NODE = '11111111-1111-4111-8111-111111111111';
const quiet = { warn: jest.fn() } as never;

describe(PlayerBudget.name, () => {
  const make = (limitBps: number | null, access: 'open' | 'placed' = 'open', bitrate = 1_000_000) =>
    new PlayerBudget({
      nodeId: NODE,
      budget: new UploadBudget(limitBps),
      access,
      localPlayers: 'loopback',
      bitrateOf: () => bitrate,
      log: quiet,
    });

  it('admits remote players up to the limit with forwards counted, and frees a slot on release', () => {
    const sut = make(2_500_000);
    sut.forwardCommittedBps = 1_000_000;
    const first = sut.admit('s', '10.0.0.2', null, 'http-flv');
    expect('lease' in first).toBe(true);
    expect(sut.admit('s', '10.0.0.3', null, 'http-flv')).toMatchObject({ refused: { status: 503 } });
    expect(sut.committedBps()).toBe(1_000_000);
    if ('lease' in first) first.lease.release();
    expect(sut.committedBps()).toBe(0);
    expect('lease' in sut.admit('s', '10.0.0.3', null, 'http-flv')).toBe(true);
    expect(sut.refused).toBe(1);
  });

  it('serves loopback players on a full node without counting them', () => {
    const sut = make(0);
    const a = sut.admit('s', '127.0.0.1', null, 'rtmp');
    expect('lease' in a && a.lease.counted).toBe(false);
    expect(sut.counts('s')).toEqual({ players: 0, localPlayers: 1, placedPlayers: 0 });
    expect(sut.committedBps()).toBe(0);
  });

  it('redirects to the directory when its public URL is known', () => {
    const sut = make(0);
    sut.publicUrl = 'http://127.0.0.1:8080';
    expect(sut.admit('s', '10.0.0.2', null, 'http-flv')).toMatchObject({
      refused: { status: 302, location: `http://127.0.0.1:8080/streams/s/play.flv?exclude=${NODE}` },
    });
  });

  it('checks play tokens with the directory key: a bad one is refused 403, the right one plays placed', () => {
    const directory = generateNodeKeys();
    const sut = make(null, 'placed');
    sut.directoryKey = directory.publicKey;
    const good = signPlayToken(directory, {
      placementId: 'p1',
      streamId: 's',
      nodeId: NODE,
      expiresAt: Date.now() + 60_000,
    });
    const forged = signPlayToken(generateNodeKeys(), {
      placementId: 'p1',
      streamId: 's',
      nodeId: NODE,
      expiresAt: Date.now() + 60_000,
    });
    expect(sut.admit('s', '10.0.0.2', forged, 'http-flv')).toMatchObject({
      refused: { status: 403, message: PLAY_TOKEN_REFUSALS['bad-signature'] },
    });
    expect(sut.admit('s', '10.0.0.2', null, 'http-flv')).toMatchObject({ refused: { status: 403 } });
    const ok = sut.admit('s', '10.0.0.2', good, 'http-flv');
    expect('lease' in ok && ok.lease.placed).toBe(true);
    expect(sut.counts('s')).toEqual({ players: 1, localPlayers: 0, placedPlayers: 1 });
  });

  it('charges the bytes of counted players to the relay budget, not those of local ones', () => {
    const sut = make(null);
    const remote = sut.admit('s', '10.0.0.2', null, 'http-flv');
    const local = sut.admit('s', '::1', null, 'http-flv');
    if (!('lease' in remote) || !('lease' in local)) throw new Error('not admitted');
    remote.lease.sent(1000);
    local.lease.sent(5000);
    expect(sut.playerBytes).toBe(1000);
  });
});
