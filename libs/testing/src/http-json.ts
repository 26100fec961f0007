import { scrubSecrets } from '@astral/config';

export class HttpJsonError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    const detail = typeof body === 'string' ? body : JSON.stringify(body);
    super(`${method} ${redactUrl(url)} answered HTTP ${status}: ${detail.slice(0, 500)}`);
    this.name = HttpJsonError.name;
  }
}

/** Hides query-string secrets (key, token, ticket, sign) in a URL shown in a message. */
export function redactUrl(url: string): string {
  return scrubSecrets(url);
}

export interface HttpJsonOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/**
 * Sends a JSON request and returns the parsed JSON answer (undefined for an empty body).
 * A non-2xx status throws HttpJsonError carrying the status and the parsed body.
 */
export async function httpJson<T = unknown>(
  method: string,
  url: string,
  body?: unknown,
  options: HttpJsonOptions = {},
): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: {
      accept: 'application/json',
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let parsed: unknown;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!res.ok) throw new HttpJsonError(method, url, res.status, parsed);
  return parsed as T;
}
