import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, freePort, spawnAstral, waitFor } from '@astral/testing';

/** A directory replica the bench started: its process and HTTP address. */
export interface BenchReplica {
  proc: ManagedProcess;
  httpUrl: string;
}

/** Starts `count` directory replicas with the same arguments (each on its own port) and waits for them. */
export async function startReplicas(count: number, args: string[], logDir: string): Promise<BenchReplica[]> {
  const replicas: BenchReplica[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const proc = spawnAstral(`directory-${i}`, ['directory', '--port', String(port), ...args], {
      logFile: join(logDir, `directory-${i}.log`),
    });
    const httpUrl = `http://127.0.0.1:${port}`;
    replicas.push({ proc, httpUrl });
    await waitFor(async () => (await fetch(`${httpUrl}/readyz`)).ok, {
      timeoutMs: 30_000,
      what: `directory ${i}`,
    });
  }
  return replicas;
}

/** One sample of a Prometheus text page (`name` or `name{labels}`), NaN when absent. */
export async function metric(httpUrl: string, series: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const escaped = series.replace(/[{}"]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

/** A counter summed over replicas (each counts its own share of the work); absent counts as 0. */
export async function summed(replicas: BenchReplica[], series: string): Promise<number> {
  const values = await Promise.all(replicas.map((r) => metric(r.httpUrl, series)));
  return values.reduce((a, v) => a + (Number.isFinite(v) ? v : 0), 0);
}

/** Each replica's share of the bus messages (queued + claimed), rounded to 3 digits. */
export async function shares(replicas: BenchReplica[]): Promise<number[]> {
  const handled = await Promise.all(
    replicas.map(
      async (r) =>
        ((await metric(r.httpUrl, 'astral_directory_bus_messages_total{how="queued"}')) || 0) +
        ((await metric(r.httpUrl, 'astral_directory_bus_messages_total{how="claimed"}')) || 0),
    ),
  );
  const total = handled.reduce((a, b) => a + b, 0);
  return handled.map((h) => (total > 0 ? Math.round((h / total) * 1000) / 1000 : 0));
}

export function rssOf(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: Math.round(kb('VmRSS') / 102.4) / 10, peakRssMb: Math.round(kb('VmHWM') / 102.4) / 10 };
}
