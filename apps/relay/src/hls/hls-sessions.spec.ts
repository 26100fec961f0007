import { UploadBudget } from '../forward/upload-budget';
import { PlayerBudget } from '../players/player-budget';
import { HLS_SESSION_MIN_ALIVE_MS, HlsSessions, hlsDirectoryPlay, sessionAliveMs } from './hls-sessions';

const NODE = '11111111-1111-4111-8111-111111111111';
const quiet = { warn: () => undefined } as never;

/** A real PlayerBudget (the one budget) behind the sessions, on the same fake clock. */
function setup(limitBps: number | null) {
  let now = 1_000_000;
  const clock = () => now;
  const players = new PlayerBudget({
    nodeId: NODE,
    budget: new UploadBudget(limitBps),
    access: 'open',
    localPlayers: 'loopback',
    bitrateOf: () => 1_000_000,
    log: quiet,
    clock,
  });
  let admits = 0;
  const sut = new HlsSessions((streamId, address, token, ll) => {
    admits += 1;
    return players.admit(streamId, address, token, 'hls', hlsDirectoryPlay(ll));
  }, clock);
  return {
    sut,
    players,
    admits: () => admits,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe(HlsSessions.name, () => {
  it('admits a session once; its later requests ride the same lease', () => {
    const { sut, players, admits } = setup(null);
    const first = sut.request('show', '10.0.0.2', null, 10_000);
    expect(first).toMatchObject({ fresh: true });
    for (let i = 0; i < 5; i++)
      expect(sut.request('show', '10.0.0.2', null, 10_000)).toMatchObject({ fresh: false });
    expect(admits()).toBe(1);
    expect(sut.count('show')).toBe(1);
    expect(players.counts('show')).toEqual({ players: 1, localPlayers: 0, placedPlayers: 0 });
    // Another address, or the same address on another stream, is another session.
    sut.request('show', '10.0.0.3', null, 10_000);
    sut.request('other', '10.0.0.2', null, 10_000);
    expect(admits()).toBe(3);
    expect(sut.count('show')).toBe(2);
  });

  it('expires a quiet session and releases its lease; one that keeps asking lives on', () => {
    const { sut, players, advance } = setup(null);
    sut.request('show', '10.0.0.2', null, 10_000);
    sut.request('show', '10.0.0.3', null, 10_000);
    for (let i = 0; i < 4; i++) {
      advance(4000);
      sut.request('show', '10.0.0.3', null, 10_000);
      sut.sweep();
    }
    expect(sut.count('show')).toBe(1);
    expect(players.counts('show').players).toBe(1);
    advance(10_001);
    expect(sut.sweep()).toBe(1);
    expect(sut.size).toBe(0);
    expect(players.counts('show').players).toBe(0);
  });

  it('admits again after expiry (a fresh session), even before a sweep', () => {
    const { sut, admits, players, advance } = setup(null);
    sut.request('show', '10.0.0.2', null, 10_000);
    advance(10_001);
    expect(sut.request('show', '10.0.0.2', null, 10_000)).toMatchObject({ fresh: true });
    expect(admits()).toBe(2);
    expect(players.counts('show').players).toBe(1);
  });

  it('a full budget refuses a new session with the HLS redirect or 503; a live session is not refused', () => {
    const { sut, players } = setup(1_000_000);
    expect(sut.request('show', '10.0.0.2', null, 10_000)).toMatchObject({ fresh: true });
    expect(sut.request('show', '10.0.0.3', null, 10_000)).toMatchObject({ refused: { status: 503 } });
    players.publicUrl = 'http://dir.example:8080';
    expect(sut.request('show', '10.0.0.3', null, 10_000)).toEqual({
      refused: { status: 302, location: `http://dir.example:8080/streams/show/play.m3u8?exclude=${NODE}` },
    });
    expect(sut.request('show', '10.0.0.4', null, 10_000, true)).toEqual({
      refused: {
        status: 302,
        location: `http://dir.example:8080/streams/show/play.m3u8?exclude=${NODE}&ll=1`,
      },
    });
    expect(sut.request('show', '10.0.0.2', null, 10_000)).toMatchObject({ fresh: false });
    expect(sut.count('show')).toBe(1);
  });

  it('local sessions are served uncounted; dropping a stream releases its sessions', () => {
    const { sut, players } = setup(0);
    expect(sut.request('show', '127.0.0.1', null, 10_000)).toMatchObject({ lease: { counted: false } });
    expect(players.counts('show')).toEqual({ players: 0, localPlayers: 1, placedPlayers: 0 });
    sut.dropStream('show');
    expect(sut.count('show')).toBe(0);
    expect(players.counts('show').localPlayers).toBe(0);
  });

  it('lives max(10 s, 3 target durations)', () => {
    expect(sessionAliveMs(2)).toBe(HLS_SESSION_MIN_ALIVE_MS);
    expect(sessionAliveMs(6)).toBe(18_000);
  });
});
