/** A URL for a log line or an error message: user name and password removed. */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(an unparsable URL)';
  }
}

/** A start-up failure caused by Redis being unreachable, naming the URL tried (without credentials). */
export class RedisUnreachableError extends Error {
  constructor(
    readonly redisUrl: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `could not connect to Redis at ${withoutCredentials(redisUrl)} (${why}). ` +
        'Start Redis there, or set REDIS_URL / --redis to a Redis this process can reach.',
      { cause },
    );
    this.name = 'RedisUnreachableError';
  }
}

/**
 * What ioredis (through Nest's Redis transport) rejects with when it cannot reach Redis: "Connection is
 * closed." on a refused or dropped connect, the offline-queue and retry errors, or a socket error.
 */
export function isRedisConnectError(err: unknown, redisUrl: string): boolean {
  if (!(err instanceof Error))
    return typeof err === 'string' && /Connection lost|Connection is closed/i.test(err);
  if (err instanceof RedisUnreachableError) return false;
  if (/^Connection is closed\.?$/.test(err.message)) return true;
  if (
    err.name === 'MaxRetriesPerRequestError' ||
    /enableOfflineQueue|Reached the max retries/.test(err.message)
  )
    return true;
  const code = (err as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code)
  ) {
    try {
      const u = new URL(redisUrl);
      return err.message.endsWith(`:${u.port || '6379'}`) || err.message.endsWith(` ${u.hostname}`);
    } catch {
      return false;
    }
  }
  return false;
}

/** The error to report for a failed start: Redis connect failures are explained, others pass through. */
export function explainStartupError(err: unknown, redisUrl: string | undefined): unknown {
  if (redisUrl && isRedisConnectError(err, redisUrl)) return new RedisUnreachableError(redisUrl, err);
  return err;
}
