export interface WaitForOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 100 ms). */
  intervalMs?: number;
  /** What is being waited for, named in the timeout error. */
  what?: string;
}

export class WaitForTimeoutError extends Error {
  constructor(
    what: string,
    timeoutMs: number,
    readonly lastError?: unknown,
  ) {
    const cause =
      lastError instanceof Error
        ? lastError.message
        : lastError !== undefined
          ? JSON.stringify(lastError)
          : '';
    super(`timed out after ${timeoutMs} ms waiting for ${what}${cause ? ` (last error: ${cause})` : ''}`);
    this.name = WaitForTimeoutError.name;
  }
}

/** Thrown by a waitFor callback to stop waiting at once (e.g. the awaited process has died). */
export class WaitAbortedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = WaitAbortedError.name;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `fn` until it returns a value other than undefined, null or false, and returns that value.
 * Errors thrown by `fn` count as "not yet"; the last one is quoted if the wait times out. A
 * WaitAbortedError ends the wait at once.
 */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitForOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 100, what = 'a condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      if (err instanceof WaitAbortedError) throw err;
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitForTimeoutError(what, timeoutMs, lastError);
    await sleep(Math.min(intervalMs, left));
  }
}

/** Runs a test body; when it fails, prints `logs()` (the processes' logs) before the failure. */
export async function withLogsOnFailure(logs: () => string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    console.log(logs());
    throw err;
  }
}
