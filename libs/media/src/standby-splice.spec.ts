import fc from 'fast-check';
import { FlvTag, FlvTagType, isVideoFrame } from './flv/flv-tag';
import { RelayedTimeline } from './relayed-timeline';
import { SpliceOutcome, SpliceStep, StandbySplice } from './standby-splice';
import { clockTag } from './amf/clock-tag';

/** The source's tags: video every 40 ms (a keyframe every `gop` frames), audio every 23 ms, each with unique bytes. */
function source(count: number, gop = 25): FlvTag[] {
  const tags: FlvTag[] = [];
  let v = 0;
  let a = 0;
  while (tags.length < count) {
    const video = v * 40 <= a * 23;
    const idx = tags.length;
    const data = Buffer.alloc(9);
    if (video) {
      data[0] = v % gop === 0 ? 0x17 : 0x27;
      data[1] = 1;
    } else {
      data[0] = 0xaf;
      data[1] = 1;
    }
    data.writeUInt32BE(idx, 5);
    tags.push({
      type: video ? FlvTagType.Video : FlvTagType.Audio,
      timestamp: video ? v++ * 40 : a++ * 23,
      streamId: 0,
      data,
    });
  }
  return tags;
}

const onPath = (tags: FlvTag[], offset: number): FlvTag[] =>
  tags.map((t) => ({ ...t, timestamp: t.timestamp + offset }));
const indexOf = (t: FlvTag): number => t.data.readUInt32BE(5);

interface Run {
  out: { idx: number; ts: number; type: FlvTagType }[];
  outcomes: SpliceOutcome[];
  atLoss: number;
}

/**
 * The relay's use of the splice: the primary's tags go out through a RelayedTimeline and are noted; the
 * standby has received tags [0, cut + lead) when the primary is lost after delivering [0, cut); the rest
 * of the standby's tags arrive after the loss, in real time.
 */
function run(src: FlvTag[], cut: number, lead: number, offP: number, offS: number): Run {
  const primary = onPath(src, offP);
  const standby = onPath(src, offS);
  const timeline = new RelayedTimeline();
  const splice = new StandbySplice();
  const out: Run['out'] = [];
  const outcomes: SpliceOutcome[] = [];
  const emit = (t: FlvTag) => out.push({ idx: indexOf(t), ts: timeline.map(t), type: t.type });
  const apply = (step: SpliceStep) => {
    if (step.outcome?.kind === 'aligned') timeline.shift(step.outcome.offsetMs);
    if (step.outcome?.kind === 'fallback') timeline.discontinuity();
    if (step.outcome) outcomes.push(step.outcome);
    step.tags.forEach(emit);
  };
  const seen = Math.max(0, Math.min(src.length, cut + lead));
  // Interleave by arrival: the standby's tag i arrives around the primary's tag i - lead.
  let s = 0;
  for (let p = 0; p < cut; p++) {
    emit(primary[p]);
    splice.noteDelivered(primary[p]);
    while (s < seen && s - lead <= p) apply(splice.push(standby[s++], p));
  }
  while (s < seen) apply(splice.push(standby[s++], cut));
  apply(splice.promote(cut));
  const atLoss = out.length;
  for (; s < standby.length; s++) apply(splice.push(standby[s], cut + (s - seen)));
  return { out, outcomes, atLoss };
}

function assertSeamless(src: FlvTag[], r: Run, offP: number): void {
  for (const type of [FlvTagType.Video, FlvTagType.Audio]) {
    const expected = src.map((t, i) => ({ t, i })).filter((x) => x.t.type === type);
    const got = r.out.filter((o) => o.type === type);
    // Every source frame exactly once, in order, each at its own timestamp: no gap, no repeat, no jump.
    expect(got.map((o) => o.idx)).toEqual(expected.map((x) => x.i));
    expect(got.map((o) => o.ts)).toEqual(expected.map((x) => x.t.timestamp + offP));
  }
}

describe(StandbySplice.name, () => {
  const src = source(200);

  it('waits for a standby that is behind the primary, then goes on after the last delivered tag', () => {
    const r = run(src, 120, -30, 5000, 200);
    expect(r.outcomes).toEqual([{ kind: 'aligned', offsetMs: 200 - 5000, skipped: 90 }]);
    expect(r.atLoss).toBe(120); // nothing to add at the loss: the standby has not reached the cut yet
    assertSeamless(src, r, 5000);
  });

  it('catches up at once from the buffer when the standby is ahead', () => {
    const r = run(src, 120, 25, 0, 3000);
    expect(r.outcomes[0]).toMatchObject({ kind: 'aligned', offsetMs: 3000 });
    expect(r.atLoss).toBe(145); // the burst: the standby's 25 tags past the cut
    assertSeamless(src, r, 0);
  });

  it('aligns when the two paths carry the same timestamps (no hop re-based)', () => {
    assertSeamless(src, run(src, 77, 3, 1000, 1000), 1000);
  });

  it('falls back to the keyframe takeover when the standby never shows a delivered frame', () => {
    const splice = new StandbySplice({ alignWaitMs: 500 });
    for (const t of src.slice(0, 60)) splice.noteDelivered(t);
    // Another stream's bytes on the standby: nothing matches.
    const other = source(200).map((t) => ({ ...t, data: Buffer.concat([t.data, Buffer.from([1])]) }));
    expect(splice.promote(0).outcome).toBeNull();
    const steps = other.slice(60, 140).map((t, i) => splice.push(t, i * 10));
    const decided = steps.findIndex((s) => s.outcome !== null);
    expect(steps[decided].outcome).toEqual({
      kind: 'fallback',
      reason: 'the standby did not align with what was delivered',
    });
    expect(decided * 10).toBeGreaterThanOrEqual(500);
    const firstVideo = steps[decided].tags.find(isVideoFrame)!;
    expect(firstVideo.data[0]).toBe(0x17); // from a keyframe
  });

  it('ignores frames whose bytes repeat (a static picture) and aligns on the unique ones', () => {
    const dup = src.map((t) =>
      t.type === FlvTagType.Video && indexOf(t) % 3 !== 0
        ? { ...t, data: Buffer.from([0x27, 1, 0, 0, 0, 0, 0, 0, 0]) }
        : t,
    );
    const splice = new StandbySplice();
    for (const t of onPath(dup, 0).slice(0, 100)) splice.noteDelivered(t);
    for (const t of onPath(dup, 700).slice(0, 110)) splice.push(t, 0);
    expect(splice.offsetMs).toBe(700);
  });

  it('passes on the standby headers at the cut and ignores its clock stamps before it', () => {
    const splice = new StandbySplice();
    const header: FlvTag = {
      type: FlvTagType.Video,
      timestamp: 0,
      streamId: 0,
      data: Buffer.from([0x17, 0]),
    };
    splice.push(header, 0);
    splice.push(clockTag(0, 123), 0);
    for (const t of src.slice(0, 50)) splice.noteDelivered(t);
    for (const t of src.slice(0, 52)) splice.push(t, 0);
    const step = splice.promote(0);
    expect(step.headers).toEqual([header]);
    expect(step.tags.map(indexOf)).toEqual([50, 51]);
  });

  it('property: any cut, offsets and standby lead or lag give every source frame once, at its own time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 40, max: 260 }),
        fc.integer({ min: 0, max: 1 }).chain((k) => fc.integer({ min: 5 + k, max: 260 })),
        fc.integer({ min: -60, max: 60 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: -5000, max: 5000 }),
        (n, cutRaw, lead, offP, delta) => {
          const s = source(n);
          const cut = Math.min(cutRaw, n);
          const r = run(s, cut, lead, offP, offP + delta);
          if (cut + lead > 0 || cut < n) {
            expect(r.outcomes.every((o) => o.kind === 'aligned')).toBe(true);
          }
          assertSeamless(s, r, offP);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('RelayedTimeline.shift', () => {
  it('maps the same frame, now carrying another timestamp, to the same output', () => {
    const t = new RelayedTimeline();
    const frame = (ts: number): FlvTag => ({
      type: FlvTagType.Audio,
      timestamp: ts,
      streamId: 0,
      data: Buffer.from([0xaf, 1]),
    });
    expect(t.map(frame(1000))).toBe(1000);
    t.shift(-900);
    expect(t.map(frame(123))).toBe(1023);
  });
});
