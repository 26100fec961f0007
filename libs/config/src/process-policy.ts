import type { Logger } from 'pino';
import { scrubSecrets } from './logging';

/**
 * The process-level policy of every long-running Astral process (directory, agent, relay).
 *
 * - `unhandledRejection`: a promise failed and nobody was waiting for its answer (typically a
 *   dependency firing a write without a callback, e.g. a Redis reply published while Redis is away).
 *   The work that failed is already lost and no state is half-changed, so the fault is logged (level
 *   error, with the node id, message and stack, secrets scrubbed) and the process keeps serving.
 * - `uncaughtException`: a synchronous throw escaped to the event loop. Whatever the throwing code was
 *   doing is left half-done, so the state is unknown: log fatal with context, say so on stderr, and
 *   exit with EXIT_UNCAUGHT (70, EX_SOFTWARE) so the supervisor (`astral node start`, systemd,
 *   Kubernetes) restarts this half. Never a silent swallow.
 */
export const EXIT_UNCAUGHT = 70;

export interface FaultReport {
  kind: 'uncaughtException' | 'unhandledRejection';
  name: string;
  message: string;
  /** The stack without the first line (which repeats the message); scrubbed. */
  stack?: string;
  /** Node's `code` property (ERR_…, ECONNRESET), when there is one. */
  code?: string;
}

/** What a fault was, ready for a log line: name, message, stack and code, with secrets in text scrubbed. */
export function describeFault(kind: FaultReport['kind'], fault: unknown): FaultReport {
  if (fault instanceof Error) {
    const code = (fault as { code?: unknown }).code;
    return {
      kind,
      name: fault.name,
      message: scrubSecrets(fault.message),
      ...(fault.stack && { stack: scrubSecrets(fault.stack) }),
      ...(typeof code === 'string' && { code }),
    };
  }
  let message: string;
  try {
    message = typeof fault === 'string' ? fault : (JSON.stringify(fault) ?? String(fault));
  } catch {
    message = String(fault);
  }
  return { kind, name: typeof fault, message: scrubSecrets(message) };
}

export interface ProcessPolicyOptions {
  /** Ends the process; default process.exit. */
  exit?: (code: number) => void;
  /** Where the one human line about a fatal fault goes; default process.stderr. */
  stderr?: { write(line: string): unknown };
  /** The name in that line, e.g. 'agent' gives "astral agent: …". */
  name?: string;
}

interface Installed {
  log: Logger;
  options: ProcessPolicyOptions;
  uninstall: () => void;
}

let installed: Installed | null = null;

/**
 * Installs the policy's `uncaughtException` and `unhandledRejection` handlers, once per process: a
 * second call only replaces the logger and options (a service installs early with a plain logger, then
 * adopts its node-tagged one). Returns a function that removes the handlers.
 */
export function installProcessPolicy(log: Logger, options: ProcessPolicyOptions = {}): () => void {
  if (installed) {
    installed.log = log;
    installed.options = { ...installed.options, ...options };
    return installed.uninstall;
  }
  const state: Installed = { log, options, uninstall: () => undefined };
  const onRejection = (reason: unknown): void => {
    const fault = describeFault('unhandledRejection', reason);
    state.log.error({ fault }, `unhandled promise rejection (the process keeps serving): ${fault.message}`);
  };
  const onException = (err: unknown): void => {
    const fault = describeFault('uncaughtException', err);
    const exit = state.options.exit ?? ((code: number) => process.exit(code));
    try {
      state.log.fatal(
        { fault, exitCode: EXIT_UNCAUGHT },
        `uncaught exception; state unknown, exiting with ${EXIT_UNCAUGHT}: ${fault.message}`,
      );
      (state.options.stderr ?? process.stderr).write(
        `astral ${state.options.name ?? 'process'}: uncaught exception, exiting with ${EXIT_UNCAUGHT} so it is restarted: ${fault.message}\n`,
      );
    } finally {
      exit(EXIT_UNCAUGHT);
    }
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  state.uninstall = () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    if (installed === state) installed = null;
  };
  installed = state;
  return state.uninstall;
}

/**
 * Gives the installed policy this logger (one that carries the node id), when a policy is installed;
 * does nothing otherwise, so a service started inside a test process leaves that process's handlers alone.
 */
export function adoptProcessPolicyLogger(log: Logger): void {
  if (installed) installed.log = log;
}
