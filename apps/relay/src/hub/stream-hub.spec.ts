import { FlvParser, FlvTag, encodeFlvHeader, encodeFlvTag, retimed, wireOf } from '@astral/media';
import { syntheticFlv as flv } from '@astral/testing';
import { StreamHub } from './stream-hub';
import { StreamConsumer } from './stream-consumer';

/** A consumer that records what it is handed. */
class Recorder implements StreamConsumer {
  readonly tags: FlvTag[] = [];
  readonly wires: Buffer[] = [];
  closedWith: string | null = null;
  onClose: (() => void) | null = null;

  deliver(tag: FlvTag, wire: Buffer): void {
    this.tags.push(tag);
    this.wires.push(wire);
  }

  close(reason: string): void {
    this.closedWith = reason;
    this.onClose?.();
  }
}

describe('StreamHub', () => {
  it('encodes each tag once and hands the same buffer to every consumer', () => {
    const hub = new StreamHub('s1', 'upstream');
    const a = new Recorder();
    const b = new Recorder();
    hub.attach(a);
    hub.attach(b);
    const tag = flv.keyframe(40);
    hub.ingest(tag, 1000);
    expect(a.tags).toEqual([tag]);
    expect(a.wires[0]).toBe(b.wires[0]);
    expect(a.wires[0].equals(encodeFlvTag(tag))).toBe(true);
  });

  it('passes on a wire form it is given as it is (the local tap’s buffer)', () => {
    const hub = new StreamHub('s1', 'publish');
    const a = new Recorder();
    hub.attach(a);
    const tag = flv.interframe(80);
    const wire = encodeFlvTag(tag);
    hub.ingest(tag, 1000, wire);
    expect(a.wires[0]).toBe(wire);
  });

  it('shares a parsed tag’s own bytes, which a later retime (a player’s own timeline) leaves alone', () => {
    const hub = new StreamHub('s1', 'upstream');
    const a = new Recorder();
    hub.attach(a);
    const chunk = Buffer.concat([encodeFlvHeader(), encodeFlvTag(flv.keyframe(40))]);
    const [tag] = new FlvParser().push(chunk);
    hub.ingest(tag, 1000);
    expect(a.wires[0].buffer).toBe(chunk.buffer);
    const [cached] = hub.gop.joinSequence();
    expect(wireOf(cached)).toBe(a.wires[0]);
    const moved = retimed(cached, 500);
    expect(wireOf(moved).equals(encodeFlvTag(flv.keyframe(500)))).toBe(true);
    expect(a.wires[0].equals(encodeFlvTag(flv.keyframe(40)))).toBe(true);
    expect(wireOf(cached)).toBe(a.wires[0]);
  });

  it('counts tags and video frames, and the time of the last tag', () => {
    const hub = new StreamHub('s1', 'publish');
    expect(hub.lastTagAt).toBeNull();
    hub.ingest(flv.metadata(), 1000);
    hub.ingest(flv.videoHeader(), 1000);
    hub.ingest(flv.keyframe(0), 1010);
    hub.ingest(flv.audio(10), 1020);
    hub.ingest(flv.interframe(40), 1050);
    expect(hub.tagsIn).toBe(5);
    expect(hub.videoFramesIn).toBe(2);
    expect(hub.lastTagAt).toBe(1050);
    expect(hub.meter.measure(2050).fps).toBeCloseTo(2000 / 1050, 5); // the meter saw the two frames
  });

  it('a consumer attaching mid-stream gets the join sequence, then the live tags', () => {
    const hub = new StreamHub('s1', 'publish');
    const meta = flv.metadata();
    const vh = flv.videoHeader();
    const ah = flv.audioHeader();
    for (const tag of [meta, vh, ah, flv.keyframe(0), flv.interframe(40)]) hub.ingest(tag, 0);
    const k = flv.keyframe(80);
    const i = flv.interframe(120);
    hub.ingest(k, 0);
    hub.ingest(i, 0);
    const late = new Recorder();
    expect(hub.attach(late)).toEqual([meta, vh, ah, k, i]);
    const live = flv.audio(130);
    hub.ingest(live, 0);
    expect(late.tags).toEqual([live]);
    expect(hub.consumerCount).toBe(1);
  });

  it('stops handing tags to a detached consumer', () => {
    const hub = new StreamHub('s1', 'upstream');
    const a = new Recorder();
    const b = new Recorder();
    hub.attach(a);
    hub.attach(b);
    hub.detach(a);
    hub.ingest(flv.keyframe(0), 0);
    expect(a.tags).toEqual([]);
    expect(b.tags).toHaveLength(1);
    expect(hub.consumerCount).toBe(1);
  });

  it('tells whether a header is the one it already holds', () => {
    const hub = new StreamHub('s1', 'upstream');
    const vh = flv.videoHeader();
    expect(hub.hasSameHeader(vh)).toBe(false);
    hub.ingest(vh, 0);
    expect(hub.hasSameHeader(flv.videoHeader(500))).toBe(true);
    const changed = flv.videoHeader();
    changed.data[5] = 0x42;
    expect(hub.hasSameHeader(changed)).toBe(false);
    expect(hub.hasSameHeader(flv.audioHeader())).toBe(false);
  });

  it('close closes every consumer with the reason, even one that detaches itself on close', () => {
    const hub = new StreamHub('s1', 'upstream');
    const consumers = [new Recorder(), new Recorder(), new Recorder()];
    for (const c of consumers) {
      hub.attach(c);
      c.onClose = () => hub.detach(c); // as a forward connection does
    }
    hub.close('the publisher stopped');
    expect(consumers.map((c) => c.closedWith)).toEqual(Array(3).fill('the publisher stopped'));
    expect(hub.consumerCount).toBe(0);
    hub.ingest(flv.keyframe(0), 0);
    expect(consumers.every((c) => c.tags.length === 0)).toBe(true);
  });
});
