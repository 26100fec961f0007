/**
 * The process a fuzz run aims at (node 1's relay or agent, or the directory): its pid, its RSS, its
 * health endpoint, and a signature that changes when it exits or is restarted by a supervisor.
 */
import { readFileSync, statSync } from 'node:fs';
import { ManagedProcess } from '@astral/testing';
import { rssMbSync } from '../lib/proc-sampler';

/** The pids of a process's direct children (from /proc, Linux). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The astral sub-command a process runs (`relay`, `agent`, `directory`, …), from its command line. */
export function astralRole(pid: number): string | null {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const at = argv.findIndex((a) => a.endsWith('astral.js'));
    return at >= 0 ? (argv[at + 1] ?? null) : null;
  } catch {
    return null;
  }
}

/** The child of `parent` that runs `astral <role>`. */
export function childWithRole(parent: number, role: string): number | undefined {
  return childPids(parent).find((p) => astralRole(p) === role);
}

/**
 * Lines of a log that tell why a process died: Node's plain-text crash output (the source line, the
 * error, its stack) and pino lines at level error or fatal. Ordinary JSON log lines are left out.
 */
export function crashLines(text: string, max = 40): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    if (t.startsWith('{')) {
      const level = /"level":\s*(\d+)/.exec(t);
      if (level && Number(level[1]) >= 50) out.push(t.slice(0, 600));
    } else out.push(t.slice(0, 600));
  }
  return out.slice(-max);
}

export class FuzzTarget {
  constructor(
    readonly name: string,
    /** The process the handle is for (node start, or the directory). */
    private readonly parent: () => ManagedProcess,
    /** The child to watch inside it (relay or agent), or null for the parent itself. */
    private readonly role: string | null,
    readonly healthUrl: string,
  ) {}

  get logFile(): string | undefined {
    return this.parent().logFile;
  }

  pid(): number | undefined {
    const p = this.parent();
    if (!p.running || p.pid === undefined) return undefined;
    return this.role ? childWithRole(p.pid, this.role) : p.pid;
  }

  /** `parentPid/targetPid`: changes when either exits or is restarted. */
  signature(): string {
    const p = this.parent();
    return `${p.running ? p.pid : 'dead'}/${this.pid() ?? 'none'}`;
  }

  parentRunning(): boolean {
    return this.parent().running;
  }

  exitStatus(): string {
    const p = this.parent();
    return p.running
      ? `${this.role ?? 'process'} pid changed (restarted by its supervisor)`
      : JSON.stringify(p.exitStatus);
  }

  rssMb(): number {
    const pid = this.pid();
    return pid === undefined ? NaN : rssMbSync(pid);
  }

  async healthy(timeoutMs = 2000): Promise<boolean> {
    try {
      return (await fetch(this.healthUrl, { signal: AbortSignal.timeout(timeoutMs) })).ok;
    } catch {
      return false;
    }
  }

  logSize(): number {
    try {
      return this.logFile ? statSync(this.logFile).size : 0;
    } catch {
      return 0;
    }
  }

  /** The log from byte `from` on (the node's log holds its agent's and relay's output). */
  logSince(from: number): string {
    const file = this.logFile;
    if (!file) return '';
    try {
      return readFileSync(file).subarray(from).toString('utf8');
    } catch {
      return '';
    }
  }
}
