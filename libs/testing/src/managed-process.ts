import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { astralBin } from './repo-root';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnManagedOptions {
  /** The program to run; default process.execPath (node). */
  command?: string;
  /** Full environment of the child (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Append stdout and stderr to this file. Without it, output goes to this process's stdout/stderr. */
  logFile?: string;
  cwd?: string;
  /**
   * Run the child as the leader of its own process group (default true). Terminal signals then reach
   * only this process, which forwards them, and a SIGKILL can take the child's whole tree down.
   */
  detached?: boolean;
}

/** Every live child spawned through spawnManaged, so that none outlives this process. */
const registry = new Set<ManagedProcess>();
/** Temp directories removed when this process exits. */
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of registry) p.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * A child process that is tracked until it exits: stop() asks it to end and escalates to SIGKILL,
 * and every child still running when this process exits is killed.
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ProcessExit>;
  private exitInfo: ProcessExit | null = null;
  private readonly exitListeners: ((exit: ProcessExit) => void)[] = [];

  constructor(
    readonly name: string,
    readonly args: string[],
    private readonly options: SpawnManagedOptions = {},
  ) {
    installExitHook();
    const command = options.command ?? process.execPath;
    let fd: number | undefined;
    if (options.logFile) {
      mkdirSync(dirname(options.logFile), { recursive: true });
      fd = openSync(options.logFile, 'a');
    }
    try {
      this.child = spawn(command, args, {
        env: options.env ?? process.env,
        cwd: options.cwd,
        detached: options.detached ?? true,
        stdio: ['ignore', fd ?? 'inherit', fd ?? 'inherit'],
      });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    registry.add(this);
    this.exited = new Promise<ProcessExit>((resolve) => {
      const done = (exit: ProcessExit): void => {
        if (this.exitInfo) return;
        this.exitInfo = exit;
        registry.delete(this);
        for (const listener of this.exitListeners) listener(exit);
        resolve(exit);
      };
      this.child.once('exit', (code, signal) => done({ code, signal }));
      // A spawn failure (ENOENT) emits 'error' without 'exit'.
      this.child.once('error', (err) => {
        if (this.child.pid === undefined) {
          this.spawnError = err;
          done({ code: null, signal: null });
        }
      });
    });
  }

  /** Set when the program could not be started at all (e.g. not on PATH). */
  spawnError?: Error;

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  get exitStatus(): ProcessExit | null {
    return this.exitInfo;
  }

  get logFile(): string | undefined {
    return this.options.logFile;
  }

  onExit(listener: (exit: ProcessExit) => void): void {
    if (this.exitInfo) listener(this.exitInfo);
    else this.exitListeners.push(listener);
  }

  /**
   * Sends a signal now, without waiting. SIGKILL goes to the child's whole process group when it has
   * one, so its own children die with it; other signals go to the child alone, which forwards them.
   */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    const pid = this.child.pid;
    if (!this.running || pid === undefined) return;
    try {
      if (signal === 'SIGKILL' && (this.options.detached ?? true)) process.kill(-pid, signal);
      else process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }

  /** Asks the child to stop with `signal`, then SIGKILLs it (and its group) after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<ProcessExit> {
    if (!this.running) return this.exitInfo as ProcessExit;
    this.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.kill('SIGKILL');
      return this.exited;
    }
    // The leader is gone; make sure nothing of its group lingers.
    if (this.options.detached ?? true) {
      try {
        if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // No process left in the group.
      }
    }
    return result;
  }

  /** The last `maxBytes` of the log file, or '' without one. */
  readLog(maxBytes = 16_384): string {
    const file = this.options.logFile;
    if (!file || !existsSync(file)) return '';
    const text = readFileSync(file, 'utf8');
    return text.length > maxBytes ? text.slice(text.length - maxBytes) : text;
  }
}

/** Starts a tracked child: `command` (default node) with `args`. */
export function spawnManaged(
  name: string,
  args: string[],
  options: SpawnManagedOptions = {},
): ManagedProcess {
  return new ManagedProcess(name, args, options);
}

/** Starts a tracked `astral <cliArgs>` child: node bin/astral.js from this repository. */
export function spawnAstral(
  name: string,
  cliArgs: string[],
  options: SpawnManagedOptions = {},
): ManagedProcess {
  return new ManagedProcess(name, [astralBin(), ...cliArgs], { ...options, command: process.execPath });
}

/** The children spawned through spawnManaged that are still running. */
export function runningProcesses(): ManagedProcess[] {
  return [...registry];
}

/** Stops every tracked child in parallel (SIGTERM, then SIGKILL after timeoutMs). */
export async function stopAllProcesses(timeoutMs = 10_000): Promise<void> {
  await Promise.all([...registry].map((p) => p.stop('SIGTERM', timeoutMs)));
}

/** A new temp directory, removed when this process exits unless removed earlier with removeTempDir. */
export function makeTempDir(prefix = 'astral-'): string {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/**
 * For CLI commands that own children: on SIGINT or SIGTERM, run `cleanup` once (it should stop the
 * children and remove temp dirs), then exit with `exitCode`. A second signal while cleaning up is
 * ignored; a third kills every tracked child and exits at once. Returns a function that uninstalls
 * the handlers.
 */
export function onTerminationSignal(
  cleanup: (signal: NodeJS.Signals) => Promise<void>,
  exitCode = 0,
): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) {
      cleanup(signal).then(
        () => process.exit(exitCode),
        (err: unknown) => {
          console.error(
            `astral: clean-up after ${signal} failed: ${err instanceof Error ? err.message : String(err)}`,
          );
          process.exit(1);
        },
      );
    } else if (count >= 3) {
      for (const p of registry) p.kill('SIGKILL');
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
