import {
  ASSUMED_BITRATE_BPS,
  SeedCandidate,
  SeedPlanInput,
  SeedPolicy,
  SeededStream,
  planSeeding,
} from './seed-plan';
import { parseSeedSelector } from './seed-selector';

const ME = '00000000-0000-4000-8000-000000000001';
const SOURCE = '00000000-0000-4000-8000-000000000002';
const NOW = 1_000_000;
const MBIT = 1_000_000;

const stream = (streamId: string, over: Partial<SeedCandidate> = {}): SeedCandidate => ({
  streamId,
  title: `Show ${streamId}`,
  sourceNodeId: SOURCE,
  bitrateBps: MBIT,
  needsCapacity: true,
  viewers: 3,
  ...over,
});
const seeded = (streamId: string, over: Partial<SeededStream> = {}): SeededStream => ({
  streamId,
  players: 0,
  forwards: 0,
  lastUsedAt: NOW,
  ...over,
});
const policy = (over: Partial<SeedPolicy> = {}): SeedPolicy => ({
  selector: parseSeedSelector('all'),
  idleMs: 60_000,
  maxStreams: null,
  ...over,
});
const input = (over: Partial<SeedPlanInput> = {}): SeedPlanInput => ({
  nodeId: ME,
  now: NOW,
  live: [],
  seeded: [],
  carried: new Set(over.seeded?.map((s) => s.streamId) ?? []),
  freeUploadBps: 10 * MBIT,
  notBefore: new Map(),
  ...over,
});
const ids = (actions: { streamId: string }[]) => actions.map((a) => a.streamId);

describe(planSeeding.name, () => {
  const sut = planSeeding;

  it('starts a matching live stream that needs capacity; not one that has room (its twin)', () => {
    const plan = sut(policy(), input({ live: [stream('needy'), stream('roomy', { needsCapacity: false })] }));
    expect(ids(plan.start)).toEqual(['needy']);
    expect(plan.start[0].reason).toMatch(/need capacity/);
    expect(plan.stop).toEqual([]);
  });

  it('starts only streams the selector matches', () => {
    const live = [stream('news-1'), stream('music-1', { title: 'Keynote live' }), stream('other')];
    expect(ids(sut(policy({ selector: parseSeedSelector('id:news-*') }), input({ live })).start)).toEqual([
      'news-1',
    ]);
    expect(ids(sut(policy({ selector: parseSeedSelector('title:KEYNOTE') }), input({ live })).start)).toEqual(
      ['music-1'],
    );
  });

  it('never starts a stream this node carries already or is the source of', () => {
    const live = [stream('watched'), stream('mine', { sourceNodeId: ME })];
    expect(sut(policy(), input({ live, carried: new Set(['watched']) })).start).toEqual([]);
  });

  it('starts only what fits the free upload, most viewers first, one copy reserved per unused seeded stream', () => {
    const live = [
      stream('a', { viewers: 1 }),
      stream('b', { viewers: 9 }),
      stream('c', { viewers: 5 }),
      stream('d'),
    ];
    expect(ids(sut(policy(), input({ live, freeUploadBps: 2.5 * MBIT })).start)).toEqual(['b', 'c']);
    // 'd' is seeded and serves nobody yet: it keeps a copy of the 2.5 Mbit/s, so only one more fits.
    const withSeeded = input({ live, seeded: [seeded('d')], freeUploadBps: 2.5 * MBIT });
    expect(ids(sut(policy(), withSeeded).start)).toEqual(['b']);
    // Without room for one copy, nothing starts.
    expect(sut(policy(), input({ live, freeUploadBps: 0.5 * MBIT })).start).toEqual([]);
  });

  it('with unlimited upload starts every match; a stream of unknown bit rate counts as ASSUMED_BITRATE_BPS', () => {
    const live = [stream('a'), stream('b', { bitrateBps: null })];
    expect(ids(sut(policy(), input({ live, freeUploadBps: null })).start)).toEqual(['a', 'b']);
    expect(ids(sut(policy(), input({ live, freeUploadBps: 3.5 * MBIT })).start)).toEqual(['a']);
    expect(ids(sut(policy(), input({ live, freeUploadBps: ASSUMED_BITRATE_BPS + MBIT })).start)).toEqual([
      'a',
      'b',
    ]);
  });

  it('keeps within maxStreams, counting what it seeds now', () => {
    const live = [stream('a'), stream('b'), stream('c')];
    expect(sut(policy({ maxStreams: 2 }), input({ live })).start).toHaveLength(2);
    const oneSeeded = input({ live, seeded: [seeded('a', { forwards: 1 })] });
    expect(ids(sut(policy({ maxStreams: 2 }), oneSeeded).start)).toEqual(['b']);
  });

  it('does not start a stream before its notBefore time, and does after it', () => {
    const live = [stream('a')];
    expect(sut(policy(), input({ live, notBefore: new Map([['a', NOW + 1]]) })).start).toEqual([]);
    expect(ids(sut(policy(), input({ live, notBefore: new Map([['a', NOW]]) })).start)).toEqual(['a']);
  });

  it('stops a seeded stream that ended at once, even while it has players', () => {
    const plan = sut(policy(), input({ live: [], seeded: [seeded('gone', { players: 4, forwards: 2 })] }));
    expect(plan.stop).toEqual([{ streamId: 'gone', reason: 'the stream is no longer live' }]);
  });

  it('stops a stream idle for idleMs whose carriers have room; keeps it one ms earlier', () => {
    const live = [stream('a', { needsCapacity: false })];
    const idle = sut(policy(), input({ live, seeded: [seeded('a', { lastUsedAt: NOW - 60_000 })] }));
    expect(ids(idle.stop)).toEqual(['a']);
    expect(idle.stop[0].reason).toMatch(/no players or forwards for 60 s/);
    const almost = sut(policy(), input({ live, seeded: [seeded('a', { lastUsedAt: NOW - 59_999 })] }));
    expect(almost.stop).toEqual([]);
  });

  it('keeps an idle stream while it still needs capacity, and one that serves anyone', () => {
    const old = NOW - 600_000;
    const needy = sut(policy(), input({ live: [stream('a')], seeded: [seeded('a', { lastUsedAt: old })] }));
    expect(needy.stop).toEqual([]);
    const live = [stream('p', { needsCapacity: false }), stream('f', { needsCapacity: false })];
    const used = [
      seeded('p', { players: 1, lastUsedAt: old }),
      seeded('f', { forwards: 1, lastUsedAt: old }),
    ];
    expect(sut(policy(), input({ live, seeded: used })).stop).toEqual([]);
  });

  it('a stopped stream frees its reserved copy for a start in the same plan', () => {
    const live = [stream('old', { needsCapacity: false }), stream('new')];
    const plan = sut(
      policy(),
      input({ live, seeded: [seeded('old', { lastUsedAt: NOW - 60_000 })], freeUploadBps: 1 * MBIT }),
    );
    expect(ids(plan.stop)).toEqual(['old']);
    expect(ids(plan.start)).toEqual(['new']);
  });
});

describe(parseSeedSelector.name, () => {
  const sut = parseSeedSelector;
  const s = (streamId: string, title = '') => ({ streamId, title });

  it('matches everything with all', () => {
    expect(sut('all').matches(s('x'))).toBe(true);
  });

  it('matches id globs (bare or id:) and title substrings, any alternative', () => {
    const sel = sut('id:news-*,title:Keynote,sport-??');
    expect(sel.matches(s('news-abc'))).toBe(true);
    expect(sel.matches(s('x', 'The keynote'))).toBe(true);
    expect(sel.matches(s('sport-12'))).toBe(true);
    expect(sel.matches(s('sport-123'))).toBe(false);
    expect(sel.matches(s('mynews-abc'))).toBe(false);
  });

  it('treats regular-expression characters in a glob literally', () => {
    expect(sut('a.b').matches(s('a.b'))).toBe(true);
    expect(sut('a.b').matches(s('axb'))).toBe(false);
  });

  it('refuses an empty selector or an empty alternative', () => {
    expect(() => sut('')).toThrow(/seed selector/);
    expect(() => sut('a,,b')).toThrow(/seed selector/);
  });
});
