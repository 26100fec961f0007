import { FlvTagReader, ffprobe, sleep, waitFor } from '@astral/testing';
import { TestRelay, startRelayTestbed } from './lib/relay-testbed';
import { parseFlags, percentile, report } from './lib/report';

/**
 * `npm run bench -- chain --hops H [--seconds S] [--json FILE]`: H+1 relays in a line (the first has
 * the publish), so H relay-to-relay hops. The bench reads every relay's forward port (with a ticket of
 * its own) and records when each video frame (by timestamp) arrives, on one clock; a hop's latency is
 * the difference between consecutive relays. Measured at the forward ports: the relay-to-relay path,
 * which never goes through node-media-server (only the source's ingest does).
 */
export async function chainBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const hops = Number(flags.get('hops') ?? 5);
  const seconds = Number(flags.get('seconds') ?? 20);
  const bed = await startRelayTestbed();
  const readers: FlvTagReader[] = [];
  try {
    const relays: TestRelay[] = [];
    for (let i = 0; i <= hops; i++) relays.push(await bed.startRelay(`hop${i}`, { logLevel: 'warn' }));
    const streamId = 'bench-chain';
    const published = new Map<number, number>();
    await bed.publish(relays[0], streamId, (ts) => published.set(ts, performance.now()));
    for (let i = 1; i <= hops; i++) {
      await relays[i - 1].waitForTagsIn(streamId, 10, {
        timeoutMs: 15_000,
        what: `the stream at hop ${i - 1}`,
      });
      await bed.pull(relays[i], relays[i - 1], streamId);
    }
    const arrivals = relays.map(() => new Map<number, number>());
    for (const [i, r] of relays.entries()) {
      const forward = await r.admit(streamId);
      const reader = await waitFor(
        () => FlvTagReader.open(forward.url, undefined, forward.headers()).catch(() => null),
        {
          timeoutMs: 15_000,
          what: `hop ${i}'s forward port`,
        },
      );
      reader.videoFrames.length = 0;
      readers.push(reader);
    }
    await Promise.all(readers.map((r) => r.waitForFrames(25, 15_000)));
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const t1 = performance.now();
    await sleep(1000);
    for (const [i, reader] of readers.entries())
      for (const f of reader.videoFrames) arrivals[i].set(f.timestamp, f.arrivalMs);
    const window = [...published.entries()].filter(([, at]) => at >= t0 && at < t1).map(([ts]) => ts);
    const perHop: number[] = [];
    const byHop: { hop: number; p50: number; p95: number }[] = [];
    for (let i = 1; i <= hops; i++) {
      const d = window
        .filter((ts) => arrivals[i].has(ts) && arrivals[i - 1].has(ts))
        .map((ts) => arrivals[i].get(ts)! - arrivals[i - 1].get(ts)!)
        .sort((a, b) => a - b);
      perHop.push(...d);
      byHop.push({ hop: i, p50: percentile(d, 50), p95: percentile(d, 95) });
    }
    perHop.sort((a, b) => a - b);
    const ingest = window
      .filter((ts) => arrivals[0].has(ts))
      .map((ts) => arrivals[0].get(ts)! - published.get(ts)!)
      .sort((a, b) => a - b);
    const tail = relays[hops];
    let decodable = false;
    let probe = '';
    try {
      const p = await ffprobe(tail.httpFlvUrl(streamId), { readSeconds: 3, timeoutMs: 30_000 });
      const v = p.streams.find((s) => s.codec_type === 'video');
      const a = p.streams.find((s) => s.codec_type === 'audio');
      decodable = v?.codec_name === 'h264' && a?.codec_name === 'aac' && v.nb_read_frames > 25;
      probe = JSON.stringify(p.streams);
    } catch (err) {
      probe = (err as Error).message;
    }
    report(
      `chain H=${hops}`,
      {
        hops,
        relays: hops + 1,
        seconds,
        measuredAt: 'forward ports (relay-to-relay path)',
        perHopLatencyMs: {
          p50: percentile(perHop, 50),
          p95: percentile(perHop, 95),
          max: perHop[perHop.length - 1],
        },
        endToEndMs: { p50: percentile(ingest, 50) + percentile(perHop, 50) * hops },
        ingestToFirstRelayMs: {
          p50: percentile(ingest, 50),
          p95: percentile(ingest, 95),
          what: 'publisher write → source relay forward port (through node-media-server)',
        },
        hopsDetail: Object.fromEntries(
          byHop.map((h) => [`hop${h.hop}`, `p50 ${h.p50.toFixed(2)} / p95 ${h.p95.toFixed(2)}`]),
        ),
        framesPublished: window.length,
        framesReceivedAtTail: window.filter((ts) => arrivals[hops].has(ts)).length,
        decodable,
        tailProbe: probe,
      },
      flags.get('json'),
    );
  } finally {
    for (const r of readers) r.close();
    await bed.stop();
  }
}
