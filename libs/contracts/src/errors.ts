/**
 * The error body every Astral request can answer with, over Redis (as an RpcException payload)
 * and over HTTP (as the JSON body).
 */
export interface AstralErrorBody {
  status: number;
  error: string;
  message: string;
  /** Field errors of a validation failure: property name to messages. */
  fields?: Record<string, string[]>;
}

/**
 * A reply as Nest's Redis transport writes it on `<channel>.reply`: the request's packet id, then either
 * the handler's result (`response`) or an error body (`err`), and `isDisposed` on the last packet.
 * Only code that reads the wire itself (tests publishing raw messages) needs it; libs/transport's `request`
 * unwraps it.
 */
export interface WireReply<R = unknown> {
  id?: string;
  response?: R;
  err?: AstralErrorBody;
  isDisposed?: boolean;
}

export type AstralErrorCode =
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'misdirected'
  | 'no-capacity'
  | 'timeout'
  | 'unavailable';

const STATUS: Record<AstralErrorCode, number> = {
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  /** A request for a host name this server does not answer (421 Misdirected Request). */
  misdirected: 421,
  'no-capacity': 429,
  unavailable: 503,
  timeout: 504,
};

/** A domain error that crosses process boundaries intact. */
export class AstralError extends Error {
  readonly status: number;

  constructor(
    readonly code: AstralErrorCode,
    message: string,
    readonly fields?: Record<string, string[]>,
  ) {
    super(message);
    this.name = AstralError.name;
    this.status = STATUS[code];
  }

  toBody(): AstralErrorBody {
    return {
      status: this.status,
      error: this.code,
      message: this.message,
      ...(this.fields && { fields: this.fields }),
    };
  }

  static fromBody(body: unknown): AstralError {
    if (body && typeof body === 'object' && 'error' in body && 'message' in body) {
      const b = body as AstralErrorBody;
      const code = (Object.keys(STATUS) as AstralErrorCode[]).includes(b.error as AstralErrorCode)
        ? (b.error as AstralErrorCode)
        : 'unavailable';
      return new AstralError(code, String(b.message), b.fields);
    }
    return new AstralError('unavailable', typeof body === 'string' ? body : JSON.stringify(body));
  }
}
