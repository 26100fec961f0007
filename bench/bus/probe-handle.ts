import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, spawnManaged, waitFor } from '@astral/testing';
import { ProbeConfig } from './probe';

export interface ProbeHandle {
  /** Stops the probe; its samples `[Date.now(), latencyMs]`. */
  stop(): Promise<[number, number][]>;
}

/** Starts bench/bus/probe.js (compiled) as its own process and waits until it is subscribed. */
export async function startProbe(target: Omit<ProbeConfig, 'out'>): Promise<ProbeHandle> {
  const dir = makeTempDir('astral-bench-bus-probe-');
  const out = join(dir, 'samples.json');
  const proc = spawnManaged('bus-probe', [join(__dirname, 'probe.js'), JSON.stringify({ ...target, out })], {
    logFile: join(dir, 'probe.log'),
  });
  try {
    await waitFor(
      () => {
        if (!proc.running) throw new Error(`the probe exited: ${proc.readLog(2000)}`);
        return existsSync(`${out}.ready`);
      },
      { timeoutMs: 20_000, intervalMs: 50, what: 'the latency probe to subscribe' },
    );
  } catch (err) {
    await proc.stop('SIGKILL', 1000);
    removeTempDir(dir);
    throw err;
  }
  return {
    stop: async () => {
      await proc.stop('SIGTERM', 5000);
      const samples = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as [number, number][]) : [];
      removeTempDir(dir);
      return samples;
    },
  };
}
