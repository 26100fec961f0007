import { readFileSync } from 'node:fs';
import {
  FlvFilePublisher,
  FlvTag,
  FlvTagType,
  isKeyframe,
  isMetadata,
  isSequenceHeader,
  isVideoFrame,
} from '@astral/media';
import { FlvTagReader, sampleFlvPath, sleep, waitFor, withLogsOnFailure } from '@astral/testing';
import { rssMbSync } from '../bench/lib/proc-sampler';
import { RawConsumer } from '../bench/lib/raw-consumer';
import { RelayTestbed, TestRelay, startRelayTestbed } from '../bench/lib/relay-testbed';

/**
 * The relay's data plane at the wire level, without agents: a relay process with its embedded
 * node-media-server, driven over Redis as its agent would, fed by a real-time publish of the sample,
 * read by raw sockets and FLV readers.
 */
describe('relay data plane', () => {
  let bed: RelayTestbed;
  let A: TestRelay;
  const streamId = 'relay-main';
  const published: { ts: number; at: number }[] = [];
  let publishKey = '';
  let bitrateBps = 0;

  beforeAll(async () => {
    bed = await startRelayTestbed();
    A = await bed.startRelay('relayA');
    const { key } = await bed.publish(A, streamId, (ts) => published.push({ ts, at: performance.now() }));
    publishKey = key;
    // Let the meter see a few seconds of the stream.
    const stream = await waitFor(
      async () =>
        (await A.stats()).streams.find(
          (s) => s.streamId === streamId && s.bitrateBps > 0 && s.keyframeIntervalMs !== null,
        ),
      { timeoutMs: 15_000, intervalMs: 250, what: 'the stream to be measured at A' },
    );
    await sleep(3000);
    bitrateBps = (await A.stats()).streams.find((s) => s.streamId === stream.streamId)!.bitrateBps;
    console.log(JSON.stringify({ measuredBitrateBps: bitrateBps }));
  }, 60_000);

  afterAll(async () => {
    await bed?.stop();
  }, 60_000);

  const failWithLogs = (body: () => Promise<void>): Promise<void> =>
    withLogsOnFailure(() => bed.logs(4000), body);

  it('sends a joining downstream metadata, sequence headers, then a keyframe first; on several streams', async () => {
    await failWithLogs(async () => {
      const second = 'relay-second';
      await bed.publish(A, second);
      await A.waitForTagsIn(second, 60, { timeoutMs: 10_000, what: 'the second stream at A' });
      for (const id of [streamId, second, streamId]) {
        const forward = await A.admit(id);
        const tags: FlvTag[] = [];
        const reader = await FlvTagReader.open(forward.url, (tag) => tags.push(tag), forward.headers());
        await reader.waitForFrames(5, 10_000);
        reader.close();
        const firstMedia = tags.findIndex((t) => !isMetadata(t) && !isSequenceHeader(t));
        expect(isMetadata(tags[0])).toBe(true);
        const headers = tags.slice(0, firstMedia);
        expect(headers.filter((t) => t.type === FlvTagType.Video && isSequenceHeader(t))).toHaveLength(1);
        expect(headers.filter((t) => t.type === FlvTagType.Audio && isSequenceHeader(t))).toHaveLength(1);
        // The first media tag is the GOP's keyframe (an audio tag never comes before it).
        expect(isVideoFrame(tags[firstMedia]) && isKeyframe(tags[firstMedia])).toBe(true);
        expect(reader.header?.hasVideo).toBe(true);
      }
    });
  }, 60_000);

  it('refuses a forward without a valid ticket with 403 and a log line', async () => {
    for (const url of [
      A.forwardUrl(streamId, 'not-a-real-ticket-token-0000'),
      A.forwardUrl(streamId, '').replace('?ticket=', ''),
    ]) {
      const res = await fetch(url);
      expect(res.status).toBe(403);
      await res.body?.cancel();
    }
    const other = await A.admit('some-other-stream');
    expect((await fetch(A.forwardUrl(streamId, other.token), { headers: other.headers() })).status).toBe(403);
    await waitFor(() => /"msg":"forward refused"/.test(readFileSync(A.logFile, 'utf8')), {
      timeoutMs: 3000,
      what: 'a refusal log line',
    });
  });

  it('keeps total egress within 5% of the upload limit (2.5× the bitrate) when 3 forwards want more', async () => {
    await failWithLogs(async () => {
      const limit = Math.round(2.5 * bitrateBps);
      await A.control.setUploadLimit({ uploadLimitBps: limit });
      const consumers: RawConsumer[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const forward = await A.admit(streamId);
          consumers.push(await RawConsumer.open(forward.url, undefined, forward.headers()));
        }
        await sleep(3000); // past the joins' GOP bursts
        const total = (): number => consumers.reduce((n, c) => n + c.bytes, 0);
        const samples: number[] = [];
        const t0 = performance.now();
        const b0 = total();
        const each0 = consumers.map((c) => c.bytes);
        let prev = { t: t0, b: b0 };
        for (let s = 0; s < 6; s++) {
          await sleep(1000);
          const now = { t: performance.now(), b: total() };
          samples.push(((now.b - prev.b) * 8000) / (now.t - prev.t));
          prev = now;
        }
        const seconds = (prev.t - t0) / 1000;
        const rate = ((prev.b - b0) * 8) / seconds;
        const perConsumer = consumers.map((c, i) => ((c.bytes - each0[i]) * 8) / seconds);
        const stats = await A.stats();
        console.log(
          JSON.stringify({
            limit,
            rate,
            ratio: rate / limit,
            perSecond: samples.map(Math.round),
            perConsumer: perConsumer.map(Math.round),
            egressBps: stats.egressBps,
          }),
        );
        expect(stats.uploadLimitBps).toBe(limit);
        expect(Math.abs(rate / limit - 1)).toBeLessThan(0.05);
        // Three full-rate forwards do not fit: every consumer gets less than the stream's rate.
        for (const r of perConsumer) expect(r).toBeLessThan(0.95 * bitrateBps);
        // Every second, too.
        for (const s of samples) expect(Math.abs(s / limit - 1)).toBeLessThan(0.05);
        expect(consumers.every((c) => !c.ended)).toBe(true);
      } finally {
        for (const c of consumers) c.close();
        await A.control.setUploadLimit({});
      }
    });
  }, 60_000);

  it('bounds a consumer that stops reading for 20 s: RSS, other consumers, logged drop', async () => {
    await failWithLogs(async () => {
      const pid = A.process.pid!;
      const stuckTicket = await A.admit(streamId);
      const stuck = await RawConsumer.open(stuckTicket.url, undefined, stuckTicket.headers());
      const [f1, f2] = [await A.admit(streamId), await A.admit(streamId)];
      const readers = [
        await FlvTagReader.open(f1.url, undefined, f1.headers()),
        await FlvTagReader.open(f2.url, undefined, f2.headers()),
      ];
      await Promise.all(readers.map((r) => r.waitForFrames(10)));
      await sleep(1000);
      const rss0 = rssMbSync(pid);
      let rssMax = rss0;
      stuck.pause();
      const t0 = performance.now();
      while (performance.now() - t0 < 20_000) {
        await sleep(500);
        rssMax = Math.max(rssMax, rssMbSync(pid));
      }
      const t1 = performance.now();
      await sleep(1500); // frames published at the end of the window reach the readers
      const sent = published.filter((p) => p.at >= t0 && p.at < t1).map((p) => p.ts);
      const ratios = readers.map((r) => {
        const got = new Set(r.videoTimestamps);
        return sent.filter((ts) => got.has(ts)).length / sent.length;
      });
      const log = readFileSync(A.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes(stuckTicket.ticketId));
      const lagLines = log.filter((l) =>
        /forward lagging|"msg":"forward closed".*lagging|lagging.*"msg":"forward closed"/.test(l),
      );
      console.log(
        JSON.stringify({
          rss0,
          rssMax,
          growthMb: rssMax - rss0,
          framesInWindow: sent.length,
          ratios,
          stuckBytes: stuck.bytes,
          lagLines,
        }),
      );
      for (const r of readers) r.close();
      stuck.close();
      expect(sent.length).toBeGreaterThan(450);
      expect(rssMax - rss0).toBeLessThan(64);
      for (const ratio of ratios) expect(ratio).toBeGreaterThanOrEqual(0.98);
      expect(lagLines.some((l) => /"msg":"forward closed"/.test(l))).toBe(true);
      expect(lagLines.join('\n')).toMatch(/"reason":"lagging: /);
    });
  }, 60_000);

  it('refuses a publish with a wrong key, accepts the right one, and never logs keys', async () => {
    await failWithLogs(async () => {
      const id = 'relay-auth';
      const { publisher: good } = await bed.publish(A, id);
      await A.waitForTagsIn(id, 30, { timeoutMs: 10_000, what: 'the accepted publish to flow' });
      await good.stop();
      const wrong = new FlvFilePublisher({
        file: sampleFlvPath(),
        url: `${A.httpFlvUrl(streamId)}?key=definitely-wrong-key`,
        durationSec: 5,
      });
      wrong.on('error', () => undefined);
      await wrong.start().catch(() => undefined);
      await expect(wrong.done).rejects.toThrow();
      await wrong.stop().catch(() => undefined);
      const metrics = await (await fetch(A.metricsUrl)).text();
      expect(metrics).toMatch(/astral_relay_publishes_refused_total\{[^}]*\} [1-9]/);
      const log = readFileSync(A.logFile, 'utf8');
      expect(log).toMatch(/"reason":"wrong stream key".*"msg":"publish refused"/);
      expect(log).not.toContain('definitely-wrong-key');
      expect(log).not.toContain(publishKey);
      // The real stream still flows.
      expect((await A.stats()).streams.find((s) => s.streamId === streamId)?.bitrateBps).toBeGreaterThan(0);
    });
  }, 60_000);

  it('exposes Prometheus metrics on the forward port', async () => {
    const res = await fetch(A.metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    for (const name of [
      'astral_relay_egress_bytes_total',
      'astral_relay_forwards',
      'astral_relay_stream_bitrate_bps',
      'astral_relay_dropped_tags_total',
      'astral_relay_upstream_switches_total',
      'astral_relay_publishes_refused_total',
      'astral_relay_process_resident_memory_bytes',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(
      new RegExp(`astral_relay_stream_bitrate_bps\\{[^}]*stream_id="${streamId}"[^}]*\\} [1-9]`),
    );
    expect(text).toMatch(/astral_relay_egress_bytes_total\{[^}]*\} [1-9]/);
    expect(text).toMatch(
      new RegExp(`astral_relay_stream_gop_cache_bytes\\{[^}]*stream_id="${streamId}"[^}]*\\} [1-9]`),
    );
  });

  it('reports what a stream holds in memory: its GOP cache within bounds, its forward queues, the process', async () => {
    const forward = await A.admit(streamId);
    const reader = await FlvTagReader.open(forward.url, undefined, forward.headers());
    try {
      await reader.waitForFrames(10);
      const stats = await A.stats();
      const stream = stats.streams.find((s) => s.streamId === streamId)!;
      expect(stream.memory!.gopCacheTags).toBeGreaterThan(0);
      expect(stream.memory!.gopCacheBytes).toBeGreaterThan(0);
      expect(stream.memory!.gopCacheBytes).toBeLessThanOrEqual(16 * 1024 * 1024 + 64 * 1024);
      // A reader that keeps up leaves at most a socket's worth queued.
      expect(stream.memory!.forwardQueuedBytes).toBeLessThan(4 * 1024 * 1024);
      expect(stats.memory!.rssBytes).toBeGreaterThan(stats.memory!.heapUsedBytes);
      expect(stats.memory!.arrayBuffersBytes).toBeGreaterThan(0);
    } finally {
      reader.close();
    }
  });
});
