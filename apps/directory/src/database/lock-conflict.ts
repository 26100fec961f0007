/**
 * PostgreSQL ends one of two statements that wait on each other's row locks (40P01, deadlock detected)
 * or that conflict under serializable isolation (40001). Both roll the statement back whole, so running
 * it again is safe and is what PostgreSQL's documentation prescribes. Batched writes of two replicas,
 * or two flushes of one, lock many node rows each and can meet this; rows go in node-id order to make
 * it rare (batch/lock-order.ts), and this retries the rest.
 */
export const LOCK_CONFLICT_CODES: ReadonlySet<string> = new Set(['40P01', '40001']);

/** Whether `err` (a TypeORM QueryFailedError or a pg error) is a lock conflict worth running again. */
export function isLockConflict(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e.driverError?.code ?? e.code;
  return typeof code === 'string' && LOCK_CONFLICT_CODES.has(code);
}

export interface LockRetryOptions {
  /** Runs at most (the first included). */
  attempts?: number;
  /** Backoff before the n-th rerun (1-based): random in [0, baseMs·2^(n-1)), so two losers part ways. */
  baseMs?: number;
  /** Told each conflict that is retried. */
  onRetry?: (attempt: number, err: unknown) => void;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Runs `work`, again after a lock conflict, up to `attempts` times; any other error, or the last, is thrown. */
export async function retryOnLockConflict<T>(
  work: () => Promise<T>,
  opts: LockRetryOptions = {},
): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const baseMs = opts.baseMs ?? 5;
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= attempts || !isLockConflict(err)) throw err;
      opts.onRetry?.(attempt, err);
      await sleep(Math.floor(random() * baseMs * 2 ** (attempt - 1)));
    }
  }
}
