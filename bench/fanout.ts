import { sleep, waitFor } from '@astral/testing';
import { CpuWindow, rssMbSync } from './lib/proc-sampler';
import { RawConsumer } from './lib/raw-consumer';
import { AdmittedForward, TestRelay, startRelayTestbed } from './lib/relay-testbed';
import { parseFlags, report } from './lib/report';

interface Phase {
  consumers: number;
  egressMbps: number;
  relayCpuPercent: number;
  mbpsPerCore: number;
  rssMb: number;
}

/** Opens `k` consumers (in batches, to keep the accept queue sane), measures for `seconds`. */
async function measure(
  relay: TestRelay,
  targets: Pick<AdmittedForward, 'url' | 'headers'>[],
  seconds: number,
): Promise<{ phase: Phase; consumers: RawConsumer[] }> {
  const consumers: RawConsumer[] = [];
  for (let i = 0; i < targets.length; i += 50) {
    const opened = await Promise.allSettled(
      targets.slice(i, i + 50).map((f) => RawConsumer.open(f.url, 20_000, f.headers())),
    );
    for (const o of opened) if (o.status === 'fulfilled') consumers.push(o.value);
  }
  await sleep(2000); // past the joins' GOP bursts
  const pid = relay.process.pid!;
  const cpu = new CpuWindow(pid);
  const bytes0 = consumers.reduce((n, c) => n + c.bytes, 0);
  cpu.start();
  let rss = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(500);
    rss = Math.max(rss, rssMbSync(pid));
  }
  const { cpuPercent, seconds: s } = cpu.stop();
  const bytes = consumers.reduce((n, c) => n + c.bytes, 0) - bytes0;
  const egressMbps = (bytes * 8) / s / 1e6;
  return {
    phase: {
      consumers: consumers.filter((c) => !c.ended).length,
      egressMbps,
      relayCpuPercent: cpuPercent,
      mbpsPerCore: egressMbps / (cpuPercent / 100),
      rssMb: rss,
    },
    consumers,
  };
}

/**
 * `npm run bench -- fanout --consumers K [--seconds S] [--json FILE]`: one relay with a real-time
 * publish of the sample; K raw-socket consumers on its forward port (K tickets, unlimited budget); then
 * K raw HTTP-FLV players on the same relay's node-media-server (/live/<id>.flv), which is
 * node-media-server alone serving the same stream. CPU is the relay process's utime+stime over the
 * window (it hosts both), so the ingest cost is in both numbers.
 */
export async function fanoutBench(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const k = Number(flags.get('consumers') ?? 10);
  const seconds = Number(flags.get('seconds') ?? 10);
  const bed = await startRelayTestbed();
  try {
    const relay = await bed.startRelay('fanout', { logLevel: 'warn' });
    const streamId = 'bench-fanout';
    await bed.publish(relay, streamId);
    await waitFor(
      async () => (await relay.stats()).streams.find((s) => s.streamId === streamId && s.bitrateBps > 0),
      {
        timeoutMs: 15_000,
        what: 'the stream to flow',
      },
    );
    const forwards: AdmittedForward[] = [];
    for (let i = 0; i < k; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, k - i) }, () => relay.admit(streamId)),
      );
      forwards.push(...batch);
    }
    const before = await relay.stats();
    const tagsIn0 = before.streams.find((s) => s.streamId === streamId)!.tagsIn;
    const fwd = await measure(relay, forwards, seconds);
    const after = await relay.stats();
    const stream = after.streams.find((s) => s.streamId === streamId)!;
    const dropped = stream.forwards.reduce((n, f) => n + f.droppedTags, 0);
    const dropRatio = dropped / Math.max(1, k * (stream.tagsIn - tagsIn0));
    for (const c of fwd.consumers) c.close();
    await sleep(1000);

    const peer = await measure(
      relay,
      Array.from({ length: k }, () => ({ url: relay.httpFlvUrl(streamId), headers: () => ({}) })),
      seconds,
    );
    for (const c of peer.consumers) c.close();

    report(
      `fanout K=${k}`,
      {
        consumers: k,
        seconds,
        streamBitrateMbps: stream.bitrateBps / 1e6,
        egressMbps: fwd.phase.egressMbps,
        relayCpuPercent: fwd.phase.relayCpuPercent,
        mbpsPerCore: fwd.phase.mbpsPerCore,
        dropRatio,
        rssMb: fwd.phase.rssMb,
        connectedAtEnd: fwd.phase.consumers,
        peer: {
          what: 'node-media-server HTTP-FLV players, same process and stream',
          egressMbps: peer.phase.egressMbps,
          cpuPercent: peer.phase.relayCpuPercent,
          mbpsPerCore: peer.phase.mbpsPerCore,
          rssMb: peer.phase.rssMb,
        },
        ratio: fwd.phase.mbpsPerCore / peer.phase.mbpsPerCore,
      },
      flags.get('json'),
    );
  } finally {
    await bed.stop();
  }
}
