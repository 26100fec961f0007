import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from './json-depth';

/**
 * A request body refused before any handler runs. `status` and `expose` follow the http-errors
 * convention (as body-parser's own errors do), so an exception filter answers it as the 4xx it is.
 */
export class BodyRefusal extends Error {
  readonly expose = true;

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'BodyRefusal';
  }
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/** Whether a request carries a body (any length, chunked or not). */
export function hasBody(headers: IncomingMessage['headers']): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/** Why a request's body may not be read as JSON, or null when it may (or there is no body). */
export function nonJsonBodyReason(headers: IncomingMessage['headers']): string | null {
  if (!hasBody(headers)) return null;
  const type = headers['content-type'];
  if (type !== undefined && JSON_TYPE.test(type)) return null;
  return `the request body must be JSON sent with Content-Type: application/json (got ${type === undefined ? 'no Content-Type' : JSON.stringify(type.slice(0, 100))})`;
}

/**
 * body-parser options for Astral's JSON APIs: the size limit, and a `verify` that refuses a body nested
 * deeper than MAX_JSON_DEPTH before it is parsed (class-transformer and the validation pipe recurse,
 * and a 6 KB body nested 3000 levels overflowed the stack with an HTTP 500).
 */
export function jsonBodyOptions(limit = '64kb'): {
  limit: string;
  verify: (req: IncomingMessage, res: ServerResponse, buf: Buffer) => void;
} {
  return {
    limit,
    verify: (_req, _res, buf) => {
      if (jsonDepthExceeds(buf, MAX_JSON_DEPTH))
        throw new BodyRefusal(400, `JSON body nested deeper than ${MAX_JSON_DEPTH} levels`);
    },
  };
}

/** Express/connect middleware: a request with a body that is not declared JSON is refused with 400. */
export function requireJsonBody(
  req: IncomingMessage,
  _res: ServerResponse,
  next: (err?: unknown) => void,
): void {
  const reason = nonJsonBodyReason(req.headers);
  next(reason === null ? undefined : new BodyRefusal(400, reason));
}
