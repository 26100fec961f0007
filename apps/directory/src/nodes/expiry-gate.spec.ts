import { ExpiryGate } from './expiry-gate';

/** A fake clock: every decision is taken at an explicit time. */
class Clock {
  constructor(public now = 1_000_000) {}
  advance(ms: number): number {
    return (this.now += ms);
  }
}

const INTERVAL = 500;
const GRACE = 3 * INTERVAL + 1000;

describe(ExpiryGate.name, () => {
  it('sweeps when nothing ever went wrong', () => {
    const clock = new Clock();
    const gate = new ExpiryGate(INTERVAL);
    expect(gate.decide(clock.now)).toEqual({ sweep: true });
    expect(gate.decide(clock.advance(INTERVAL))).toEqual({ sweep: true });
    expect(gate.graceMs).toBe(GRACE);
  });

  it('waits one expiry window after the directory started', () => {
    const clock = new Clock();
    const gate = new ExpiryGate(INTERVAL, clock.now);
    const first = gate.decide(clock.advance(INTERVAL));
    expect(first).toMatchObject({
      sweep: false,
      source: 'start',
      change: 'suspended',
      resumesAt: clock.now - INTERVAL + GRACE,
    });
    expect(first.reason).toMatch(/directory starting/);
    expect(gate.decide(clock.advance(GRACE - INTERVAL - 1))).toMatchObject({ sweep: false });
    expect(gate.decide(clock.advance(1))).toEqual({
      sweep: true,
      change: 'resumed',
      suspendedMs: GRACE,
      source: 'start',
    });
  });

  it('suspends on a failed heartbeat write, logs once, and resumes a full window after the last failure', () => {
    const clock = new Clock();
    const gate = new ExpiryGate(INTERVAL);
    const firstFailure = clock.now;
    gate.databaseFailed(firstFailure, 'connect ECONNREFUSED 127.0.0.1:5432', 'heartbeat');
    const suspended = gate.decide(clock.advance(10));
    expect(suspended).toEqual({
      sweep: false,
      source: 'database',
      reason: 'database unreachable: connect ECONNREFUSED 127.0.0.1:5432',
      resumesAt: clock.now - 10 + GRACE,
      change: 'suspended',
    });
    // The outage lasts 3 expiry windows: failures keep coming, no second "suspended".
    for (let t = 0; t < 3 * GRACE; t += INTERVAL) {
      gate.databaseFailed(clock.advance(INTERVAL), 'connect ECONNREFUSED 127.0.0.1:5432', 'probe');
      const d = gate.decide(clock.now);
      expect(d.sweep).toBe(false);
      expect(d.change).toBeUndefined();
    }
    const lastFailure = clock.now;
    // Writes succeed again; still no sweep until every node has had a full window to heartbeat.
    gate.databaseWrote(clock.advance(INTERVAL));
    expect(gate.decide(clock.now)).toMatchObject({ sweep: false, resumesAt: lastFailure + GRACE });
    expect(gate.decide(lastFailure + GRACE - 1).sweep).toBe(false);
    const resumed = gate.decide(lastFailure + GRACE);
    expect(resumed).toEqual({
      sweep: true,
      change: 'resumed',
      suspendedMs: lastFailure + GRACE - firstFailure,
      source: 'database',
    });
    expect(gate.decide(lastFailure + GRACE + INTERVAL)).toEqual({ sweep: true });
  });

  it('treats Redis trouble the same way, and reports the latest reason', () => {
    const clock = new Clock();
    const gate = new ExpiryGate(INTERVAL);
    gate.redisTrouble(clock.now, 'no PONG within 500 ms');
    expect(gate.decide(clock.now)).toMatchObject({
      sweep: false,
      source: 'redis',
      reason: 'Redis unreachable: no PONG within 500 ms',
      change: 'suspended',
    });
    gate.databaseFailed(clock.advance(GRACE - 100), 'database is locked', 'heartbeat');
    // The Redis trouble alone would have let the sweep run now; the database's keeps it suspended.
    const d = gate.decide(clock.advance(200));
    expect(d).toMatchObject({
      sweep: false,
      source: 'database',
      reason: 'database unreachable: database is locked',
    });
    expect(d.change).toBeUndefined();
    expect(gate.decide(clock.now - 200 + GRACE)).toMatchObject({ sweep: true, change: 'resumed' });
  });

  it('ignores a trouble reported late with an older time', () => {
    const clock = new Clock();
    const gate = new ExpiryGate(INTERVAL);
    gate.databaseFailed(clock.now, 'new', 'sweep');
    gate.databaseFailed(clock.now - 5000, 'old', 'heartbeat');
    expect(gate.latestTrouble()).toEqual({
      source: 'database',
      since: clock.now - 5000,
      at: clock.now,
      reason: 'database unreachable: new',
    });
  });

  it('reports writes as failing until one succeeds, but not for probe failures', () => {
    const clock = new Clock();
    const gate = new ExpiryGate(INTERVAL);
    expect(gate.writeState()).toEqual({ failing: false });
    gate.databaseFailed(clock.now, 'unreachable', 'probe');
    expect(gate.writeState()).toEqual({ failing: false });
    const since = clock.advance(10);
    gate.databaseFailed(since, 'database is locked', 'heartbeat');
    gate.databaseFailed(clock.advance(5000), 'database is locked again', 'registration');
    expect(gate.writeState()).toEqual({
      failing: true,
      since,
      message: 'database is locked again',
      activity: 'registration',
    });
    gate.databaseWrote(clock.advance(1));
    expect(gate.writeState()).toEqual({ failing: false });
    // A new streak starts at its own first failure.
    const again = clock.advance(100);
    gate.databaseFailed(again, 'gone', 'heartbeat');
    expect(gate.writeState()).toMatchObject({ failing: true, since: again });
  });
});

describe('ExpiryGate with a stalled database', () => {
  it('suspends after a write that succeeded late, without reporting writes as failing', () => {
    const clock = new Clock();
    const gate = new ExpiryGate(INTERVAL);
    gate.databaseWrote(clock.now);
    gate.databaseStalled(clock.now, 'a heartbeat write took 4800 ms');
    expect(gate.writeState()).toEqual({ failing: false });
    expect(gate.decide(clock.advance(1))).toMatchObject({
      sweep: false,
      source: 'database',
      reason: 'database stalled: a heartbeat write took 4800 ms',
      change: 'suspended',
    });
    expect(gate.decide(clock.advance(GRACE))).toMatchObject({ sweep: true, change: 'resumed' });
  });

  it('dates a suspension from when the failing write was sent, and keeps "unreachable" as its reason', () => {
    // A locked SQLite file: a write waits out the 5 s busy timeout and fails, the next one waits
    // until the lock goes and succeeds late. The event loop was blocked all along.
    const clock = new Clock();
    const gate = new ExpiryGate(INTERVAL);
    const lockedAt = clock.now;
    gate.databaseFailed(clock.advance(5000), 'database is locked', 'heartbeat', lockedAt);
    const releasedAt = clock.advance(2500);
    gate.databaseWrote(releasedAt);
    gate.databaseStalled(releasedAt, 'a heartbeat write took 2500 ms', releasedAt - 2500);
    expect(gate.decide(clock.advance(5))).toMatchObject({
      sweep: false,
      reason: 'database unreachable: database is locked',
      resumesAt: releasedAt + GRACE,
      change: 'suspended',
    });
    expect(gate.writeState()).toEqual({ failing: false });
    expect(gate.decide(releasedAt + GRACE)).toEqual({
      sweep: true,
      change: 'resumed',
      suspendedMs: releasedAt + GRACE - lockedAt,
      source: 'database',
    });
  });
});
