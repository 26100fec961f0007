import { PLAY_TOKEN_REFUSALS } from '@astral/identity';
import { UNMEASURED_PLAYER_BPS, decidePlayer, playerCostBps, refusalReply } from './player-admission';

const NONE = { kind: 'none' } as const;
const VALID = { kind: 'valid' } as const;
const BAD = { kind: 'invalid', reason: 'expired', message: PLAY_TOKEN_REFUSALS.expired } as const;
const budget = (limitBps: number | null, forward = 0, players = 0, bitrate = 1_000_000) => ({
  limitBps,
  forwardCommittedBps: forward,
  playerCommittedBps: players,
  bitrateBps: bitrate,
});

describe(decidePlayer.name, () => {
  it('admits a remote player that fits with forwards and players, and counts it', () => {
    expect(decidePlayer(false, NONE, 'open', budget(3_000_000, 1_000_000, 1_000_000))).toEqual({
      admit: true,
      counted: true,
      placed: false,
    });
  });

  it('refuses the remote player that would pass the limit: forwards and players share it', () => {
    const d = decidePlayer(false, NONE, 'open', budget(3_000_000, 2_000_000, 500_000));
    expect(d).toMatchObject({ admit: false, kind: 'full' });
    expect(decidePlayer(false, NONE, 'open', budget(3_000_000, 0, 2_500_000))).toMatchObject({
      admit: false,
    });
  });

  it('admits any number when unlimited, none with a limit of 0', () => {
    expect(decidePlayer(false, NONE, 'open', budget(null, 9e9, 9e9))).toMatchObject({
      admit: true,
      counted: true,
    });
    expect(decidePlayer(false, NONE, 'open', budget(0))).toMatchObject({ admit: false, kind: 'full' });
  });

  it('serves a local player on a full node and does not count it', () => {
    expect(decidePlayer(true, NONE, 'open', budget(0))).toEqual({
      admit: true,
      counted: false,
      placed: false,
    });
    expect(decidePlayer(true, NONE, 'placed', budget(0))).toMatchObject({ admit: true, counted: false });
  });

  it('charges an unmeasured stream at the floor: admitted only if the floor fits', () => {
    expect(playerCostBps(0)).toBe(UNMEASURED_PLAYER_BPS);
    expect(decidePlayer(false, NONE, 'open', budget(UNMEASURED_PLAYER_BPS, 0, 0, 0))).toMatchObject({
      admit: true,
    });
    expect(decidePlayer(false, NONE, 'open', budget(UNMEASURED_PLAYER_BPS - 1, 0, 0, 0))).toMatchObject({
      admit: false,
      kind: 'full',
    });
  });

  it('refuses a bad play token with its reason, local or not; the valid twin plays and is placed', () => {
    for (const local of [false, true])
      expect(decidePlayer(local, BAD, 'open', budget(null))).toEqual({
        admit: false,
        kind: 'bad-token',
        message: PLAY_TOKEN_REFUSALS.expired,
      });
    expect(decidePlayer(false, VALID, 'open', budget(null))).toEqual({
      admit: true,
      counted: true,
      placed: true,
    });
  });

  it('with placed access, needs a valid token from a remote player', () => {
    expect(decidePlayer(false, NONE, 'placed', budget(null))).toMatchObject({
      admit: false,
      kind: 'token-required',
    });
    expect(decidePlayer(false, { kind: 'unverifiable' }, 'placed', budget(null))).toMatchObject({
      admit: false,
      kind: 'no-directory-key',
    });
    // Open access: a token the node cannot check yet is as good as none.
    expect(decidePlayer(false, { kind: 'unverifiable' }, 'open', budget(null))).toMatchObject({
      admit: true,
    });
    expect(decidePlayer(false, VALID, 'placed', budget(null))).toMatchObject({ admit: true, placed: true });
  });

  it('a valid token does not pass a full budget', () => {
    expect(decidePlayer(false, VALID, 'placed', budget(1_000_000, 1_000_000))).toMatchObject({
      kind: 'full',
    });
  });
});

describe(refusalReply.name, () => {
  const where = { publicUrl: 'http://127.0.0.1:8080', streamId: 'show-1', nodeId: 'n-1' };

  it('redirects a player of a full node to the directory, excluding this node', () => {
    expect(refusalReply('full', 'full', where)).toEqual({
      status: 302,
      location: 'http://127.0.0.1:8080/streams/show-1/play.flv?exclude=n-1',
    });
  });

  it("redirects an HLS player to the directory's HLS placement, LL-HLS with ll=1", () => {
    expect(refusalReply('full', 'full', where, { file: 'play.m3u8' })).toEqual({
      status: 302,
      location: 'http://127.0.0.1:8080/streams/show-1/play.m3u8?exclude=n-1',
    });
    expect(refusalReply('full', 'full', where, { file: 'play.m3u8', query: { ll: '1' } })).toEqual({
      status: 302,
      location: 'http://127.0.0.1:8080/streams/show-1/play.m3u8?exclude=n-1&ll=1',
    });
    // A token refusal stays 403 whatever the kind of player.
    expect(refusalReply('bad-token', 'bad', where, { file: 'play.m3u8' }).status).toBe(403);
  });

  it('answers 503 with the reason when the directory is unknown', () => {
    expect(refusalReply('full', 'upload is full', { ...where, publicUrl: null })).toEqual({
      status: 503,
      error: 'unavailable',
      message: 'upload is full',
    });
  });

  it('answers 403 to a token refusal, never a redirect', () => {
    expect(refusalReply('bad-token', PLAY_TOKEN_REFUSALS['bad-signature'], where)).toEqual({
      status: 403,
      error: 'forbidden',
      message: PLAY_TOKEN_REFUSALS['bad-signature'],
    });
    expect(refusalReply('token-required', 'ask the directory', where).status).toBe(403);
    expect(refusalReply('no-directory-key', 'try again', where).status).toBe(503);
  });
});
