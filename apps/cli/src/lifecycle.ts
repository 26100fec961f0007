import { createLogger, explainStartupError, installProcessPolicy } from '@astral/config';
import { errorMessage } from './output';

export interface Closable {
  close(): Promise<void>;
}

export interface RunServiceOptions {
  /** After a signal, exit 1 if close() takes longer than this (default 30 s). */
  closeTimeoutMs?: number;
  /** The Redis URL the service uses, so a failed connect can name it (without credentials). */
  redisUrl?: string;
  /** Level of the process-policy logger until the service adopts its own (default info). */
  logLevel?: string;
}

/**
 * Runs a long-lived service started by `start` until SIGINT or SIGTERM, then calls close() and exits
 * 0. Installs the process policy first (libs/config process-policy.ts: an unhandled rejection is
 * logged and the process keeps serving; an uncaught exception is logged fatal and exits 70, for the
 * supervisor to restart). A failed start prints what failed (naming the Redis URL when Redis was
 * unreachable) and exits 1. Signals repeated while closing are ignored (a terminal's Ctrl-C can
 * reach a process both directly and forwarded by `astral node start`); if close() takes longer than
 * `closeTimeoutMs`, the process exits 1.
 */
export async function runService(
  name: string,
  start: () => Promise<Closable>,
  options: RunServiceOptions = {},
): Promise<void> {
  const closeTimeoutMs = options.closeTimeoutMs ?? 30_000;
  installProcessPolicy(createLogger(name, undefined, options.logLevel ?? 'info'), { name });
  let service: Closable;
  try {
    service = await start();
  } catch (err) {
    process.stderr.write(
      `astral ${name}: failed to start: ${errorMessage(explainStartupError(err, options.redisUrl))}\n`,
    );
    process.exit(1);
  }
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    const timer = setTimeout(() => {
      process.stderr.write(
        `astral ${name}: did not stop within ${closeTimeoutMs} ms after ${signal}; exiting\n`,
      );
      process.exit(1);
    }, closeTimeoutMs);
    timer.unref();
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`astral ${name}: error while stopping: ${errorMessage(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export interface BackoffPolicy {
  /** Delay before the first restart (default 500 ms). */
  initialMs: number;
  /** The delay doubles after each quick failure, up to this (default 30 s). */
  maxMs: number;
  /** A run at least this long counts as healthy: the next restart starts from initialMs again (default 60 s). */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

/**
 * When to restart a process that exited after running for `ranForMs`, given how many quick failures
 * came before (`failures`): 500 ms, 1 s, 2 s, … up to 30 s, back to 500 ms after a run of 60 s.
 * Returns the delay and the failure count to pass next time.
 */
export function restartDelay(
  failures: number,
  ranForMs: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): { delayMs: number; failures: number } {
  const previous = ranForMs >= policy.resetAfterMs ? 0 : Math.max(0, failures);
  const delayMs = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(previous, 30));
  return { delayMs, failures: previous + 1 };
}
