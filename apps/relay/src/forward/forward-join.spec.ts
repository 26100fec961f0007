import fc from 'fast-check';
import { FlvParser, FlvTag, GopCache, encodeFlvHeader, encodeFlvTag, retimed, wireOf } from '@astral/media';
import { socketPair, syntheticFlv as flv, waitFor } from '@astral/testing';
import { StreamHub } from '../hub/stream-hub';
import { StreamConsumer } from '../hub/stream-consumer';
import { ForwardConnection } from './forward-connection';
import { UploadBudget } from './upload-budget';

/** A relayed stream's tags: headers, then GOPs of video frames with audio between them. */
const streamArb = fc
  .array(
    fc.record({
      kind: fc.constantFrom('keyframe', 'interframe', 'audio', 'audio', 'interframe'),
      gapMs: fc.integer({ min: 1, max: 50 }),
      size: fc.integer({ min: 5, max: 3000 }),
    }),
    { minLength: 1, maxLength: 60 },
  )
  .map((steps) => {
    let ts = 0;
    const tags: FlvTag[] = [flv.metadata(), flv.videoHeader(), flv.audioHeader(), flv.keyframe(0, 500)];
    for (const { kind, gapMs, size } of steps) tags.push(flv[kind]((ts += gapMs), size));
    return tags;
  });

/** The stream as an upstream's socket delivers it: header and tags, cut at random points. */
function chunked(tags: FlvTag[], cuts: number[]): Buffer[] {
  const bytes = Buffer.concat([encodeFlvHeader(), ...tags.map((t) => encodeFlvTag(t))]);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  return [...points, bytes.length].map((p, i, all) => Buffer.from(bytes.subarray(i ? all[i - 1] : 0, p)));
}

class Recorder implements StreamConsumer {
  readonly wires: Buffer[] = [];
  deliver(_tag: FlvTag, wire: Buffer): void {
    this.wires.push(wire);
  }
  close(): void {}
}

describe('joining a relayed stream from the cached wire buffers', () => {
  it('sends a joiner the bytes the encoder writes for the retimed join sequence, never encoding again', async () => {
    await fc.assert(
      fc.asyncProperty(
        streamArb,
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 8 }),
        async (tags, cuts, shifts) => {
          const hub = new StreamHub('s1', 'upstream');
          const live = new Recorder();
          hub.attach(live);
          const oracle = new GopCache();
          // Parsed from the socket bytes, retimed as a switch would (a shift of 0 leaves the tag as it is).
          const parser = new FlvParser();
          let i = 0;
          for (const chunk of chunked(tags, cuts)) {
            for (const tag of parser.push(chunk)) {
              const ts = tag.timestamp + shifts[i++ % shifts.length];
              oracle.add({ ...tag, timestamp: ts });
              hub.ingest(retimed(tag, ts), 0);
            }
          }
          const join = hub.attach(new Recorder());
          // The join sequence is the very buffers the live consumers were handed: no encoding per joiner.
          for (const tag of join) expect(live.wires).toContain(wireOf(tag));
          const pair = await socketPair();
          try {
            const received: Buffer[] = [];
            pair.client.on('data', (c: Buffer) => received.push(c));
            const written: Buffer[] = [];
            const write = pair.server.write.bind(pair.server);
            pair.server.write = (b: Buffer) => (written.push(b), write(b));
            // What reaches the kernel: one writev for the whole join, not one write per tag.
            const syscalls = { writev: 0, write: 0 };
            const stream = pair.server as unknown as Record<'_writev' | '_write', (...a: unknown[]) => void>;
            for (const name of ['_writev', '_write'] as const) {
              const original = stream[name].bind(stream);
              stream[name] = (...a) => {
                syscalls[name === '_writev' ? 'writev' : 'write'] += 1;
                original(...a);
              };
            }
            const conn = new ForwardConnection('t', 'n', pair.server, new UploadBudget(null));
            conn.start(join);
            expect(written.slice(1)).toHaveLength(join.length);
            written.slice(1).forEach((b, k) => expect(b).toBe(wireOf(join[k])));
            const expected = Buffer.concat([
              encodeFlvHeader(true, true),
              ...oracle.joinSequence().map((t) => encodeFlvTag(t)),
            ]);
            await waitFor(() => Buffer.concat(received).length >= expected.length, {
              timeoutMs: 5000,
              intervalMs: 2,
            });
            expect(Buffer.concat(received).equals(expected)).toBe(true);
            expect(syscalls).toEqual({ writev: 1, write: 0 });
            conn.close('done', 'gone');
          } finally {
            pair.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
