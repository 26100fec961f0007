import { ChildProcess, execFileSync, fork } from 'node:child_process';
import { join } from 'node:path';
import { cpuSeconds } from './proc-sampler';

/** One player to open: HTTP-FLV (a raw GET, with headers such as a forward proof) or RTMP. */
export interface PoolTarget {
  url: string;
  protocol: 'flv' | 'rtmp';
  headers?: Record<string, string>;
}

export type PoolRequest =
  | { id: number; op: 'open'; targets: PoolTarget[]; track: boolean; timeoutMs: number }
  | { id: number; op: 'snapshot'; resetLag: boolean }
  | { id: number; op: 'close' };

/** Omit over each member of a union. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface PoolReply {
  id: number;
  opened?: number;
  failed?: number;
  error?: string;
  bytes?: number[];
  lagMs?: number[];
  ended?: number;
}

export interface PoolSnapshot {
  /** Bytes each player has read since it opened. */
  bytes: number[];
  /** Each player's largest lag behind live since the last reset (0 when not tracked). */
  lagMs: number[];
  ended: number;
  /** utime+stime of the pool's processes, seconds. */
  cpuSeconds: number;
}

/**
 * Players spread over `processes` child processes (player-worker.ts), so that the client side is not the
 * bottleneck: each child is one event loop of raw sockets. `cpus` pins the children (taskset), e.g. '1' to
 * keep them off the core the server under test is pinned to.
 */
export class PlayerPool {
  private readonly children: ChildProcess[] = [];
  private next = 1;
  private readonly waiting = new Map<number, (r: PoolReply) => void>();

  constructor(processes: number, cpus?: string) {
    for (let i = 0; i < processes; i++) {
      const child = fork(join(__dirname, 'player-worker.js'), [], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.on('message', (r: PoolReply) => {
        this.waiting.get(r.id)?.(r);
        this.waiting.delete(r.id);
      });
      if (cpus) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(child.pid)], { stdio: 'ignore' });
      this.children.push(child);
    }
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid!);
  }

  private ask(child: ChildProcess, req: WithoutId<PoolRequest>): Promise<PoolReply> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      child.send({ ...req, id }, (err) => err && reject(err));
    });
  }

  /** Opens `targets`, dealt round-robin over the children; resolves with how many opened in all, and the last error. */
  async open(
    targets: PoolTarget[],
    track = false,
    timeoutMs = 20_000,
  ): Promise<{ opened: number; failed: number; error: string }> {
    const shares = this.children.map((_, i) => targets.filter((_t, j) => j % this.children.length === i));
    const replies = await Promise.all(
      this.children.map((c, i) => this.ask(c, { op: 'open', targets: shares[i], track, timeoutMs })),
    );
    return {
      opened: replies.reduce((n, r) => n + (r.opened ?? 0), 0),
      failed: replies.reduce((n, r) => n + (r.failed ?? 0), 0),
      error: replies
        .map((r) => r.error)
        .filter(Boolean)
        .join('; '),
    };
  }

  async snapshot(resetLag = false): Promise<PoolSnapshot> {
    const replies = await Promise.all(this.children.map((c) => this.ask(c, { op: 'snapshot', resetLag })));
    return {
      bytes: replies.flatMap((r) => r.bytes ?? []),
      lagMs: replies.flatMap((r) => r.lagMs ?? []),
      ended: replies.reduce((n, r) => n + (r.ended ?? 0), 0),
      cpuSeconds: this.children.reduce((s, c) => s + cpuSeconds(c.pid!), 0),
    };
  }

  /** Closes every player (the children stay, for the next step). */
  async closePlayers(): Promise<void> {
    await Promise.all(this.children.map((c) => this.ask(c, { op: 'close' })));
  }

  /** Ends the children (they exit when their IPC channel closes; SIGKILL after a second). */
  stop(): void {
    for (const c of this.children.splice(0)) {
      if (c.connected) c.disconnect();
      setTimeout(() => c.exitCode === null && c.kill('SIGKILL'), 1000).unref();
    }
  }
}
