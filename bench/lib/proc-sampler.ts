import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const CLK_TCK = 100;

/** utime + stime of a process in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** VmRSS of a process in MB. */
export function rssMbSync(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU use of a process over a window: call start(), then stop() for the percentage of one core. */
export class CpuWindow {
  private cpu0 = 0;
  private t0 = 0;

  constructor(private readonly pid: number) {}

  start(): void {
    this.cpu0 = cpuSeconds(this.pid);
    this.t0 = performance.now();
  }

  /** { cpuPercent (100 = one core), seconds } since start(). */
  stop(): { cpuPercent: number; seconds: number; cpuSeconds: number } {
    const cpu = cpuSeconds(this.pid) - this.cpu0;
    const seconds = (performance.now() - this.t0) / 1000;
    return { cpuPercent: (100 * cpu) / seconds, seconds, cpuSeconds: cpu };
  }
}
