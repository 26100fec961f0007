import { sleep } from '@astral/testing';
import { CpuWindow, rssMbSync } from '../lib/proc-sampler';
import { FanoutWindow } from './figures';
import { ByteCounter, FanoutTarget } from './targets';

const total = (cs: ByteCounter[]): number => cs.reduce((n, c) => n + c.bytes, 0);

/**
 * One steady-state window over `target` with `consumers` open: its process's utime+stime, its peak RSS,
 * the bytes the consumers received, and (Astral) the drop counters. `each` gets every consumer's bytes in
 * the window, for the players bench's lag check.
 */
export async function measureWindow(
  target: FanoutTarget,
  consumers: ByteCounter[],
  seconds: number,
  streamKbps: number,
): Promise<FanoutWindow & { perConsumerBytes: number[] }> {
  const c0 = target.counters ? await target.counters() : undefined;
  const cpu = new CpuWindow(target.pid);
  const each0 = consumers.map((c) => c.bytes);
  const bytes0 = total(consumers);
  cpu.start();
  let rss = rssMbSync(target.pid);
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(Math.min(500, Math.max(1, seconds * 1000 - (performance.now() - t0))));
    rss = Math.max(rss, rssMbSync(target.pid));
  }
  const c = cpu.stop();
  const bytes = total(consumers) - bytes0;
  const c1 = target.counters ? await target.counters() : undefined;
  return {
    consumers: consumers.length,
    connected: consumers.filter((x) => !x.ended).length,
    bytes,
    seconds: c.seconds,
    cpuSeconds: c.cpuSeconds,
    rssMb: rss,
    streamKbps,
    ...(c0 && c1 && { droppedTags: c1.droppedTags - c0.droppedTags, tagsIn: c1.tagsIn - c0.tagsIn }),
    perConsumerBytes: consumers.map((x, i) => x.bytes - each0[i]),
  };
}
