import { HEARTBEAT_MISS_LIMIT, HeartbeatMisses } from './heartbeat-misses';

describe(HeartbeatMisses.name, () => {
  let sut: HeartbeatMisses;

  beforeEach(() => {
    sut = new HeartbeatMisses();
  });

  it('counts an upstream lost on the third miss in a row, and on every miss after it', () => {
    expect(HEARTBEAT_MISS_LIMIT).toBe(3);
    expect(sut.missed('t1')).toBe(false);
    expect(sut.missed('t1')).toBe(false);
    expect(sut.missed('t1')).toBe(true);
    expect(sut.missed('t1')).toBe(true);
    expect(sut.count('t1')).toBe(4);
  });

  it('starts again from zero after an answer', () => {
    sut.missed('t1');
    sut.missed('t1');
    sut.answered('t1');
    expect(sut.count('t1')).toBe(0);
    expect(sut.missed('t1')).toBe(false);
    expect(sut.missed('t1')).toBe(false);
    expect(sut.missed('t1')).toBe(true);
  });

  it('counts each ticket on its own', () => {
    sut.missed('t1');
    sut.missed('t1');
    expect(sut.missed('t2')).toBe(false);
    expect(sut.count('t2')).toBe(1);
    expect(sut.missed('t1')).toBe(true);
  });

  it('forgets the tickets no longer held, and keeps the count of those still held', () => {
    sut.missed('t1');
    sut.missed('t2');
    sut.missed('t2');
    sut.keepOnly(new Set(['t2', 't3']));
    expect(sut.size).toBe(1);
    expect(sut.count('t1')).toBe(0);
    expect(sut.count('t2')).toBe(2);
  });
});
