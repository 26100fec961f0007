import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import { LogThrottle } from '@astral/net';
import { AstralError, AstralErrorBody } from '@astral/contracts';
import { toRpcException } from './rpc-error.filter';

interface JsonResponse {
  status(code: number): JsonResponse;
  json(body: unknown): void;
  headersSent?: boolean;
}

/** A pino-style logger (libs/config's Logger fits). */
export interface ErrorLog {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * The exception filter of a hybrid app (the agent): over HTTP it maps any error to an HTTP status and an
 * AstralErrorBody, so HTTP and Redis callers see the same errors; given a log, every refusal (4xx) is
 * logged as a warning and every failure (5xx) as an error with its stack. Over Redis it answers as
 * AstralRpcErrorFilter does.
 */
@Catch()
export class AstralErrorFilter implements ExceptionFilter {
  /** A flood of bad requests from one address is one warning per window, with the count passed over. */
  private readonly refusals = new LogThrottle();

  constructor(private readonly log?: ErrorLog) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<unknown> | void {
    if (host.getType() === 'rpc') return throwError(() => toRpcException(exception).getError());
    const req = host
      .switchToHttp()
      .getRequest<{ method?: string; url?: string; socket?: { remoteAddress?: string } }>();
    const res = host.switchToHttp().getResponse<JsonResponse>();
    const body = toHttpErrorBody(exception);
    const where = {
      method: req?.method,
      url: req?.url?.slice(0, 200),
      remote: req?.socket?.remoteAddress,
      status: body.status,
    };
    if (body.status >= 500) {
      this.log?.error(
        {
          ...where,
          err:
            exception instanceof Error
              ? { message: exception.message, stack: exception.stack }
              : String(exception),
        },
        'request failed',
      );
    } else if (this.log) {
      const suppressed = this.refusals.take(`${body.status}|${where.remote}|${body.message}`);
      if (suppressed !== null) {
        this.log.warn(
          {
            ...where,
            error: body.message,
            ...(body.fields && { fields: body.fields }),
            ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
          },
          'request refused',
        );
      }
    }
    if (res.headersSent) return;
    res.status(body.status).json(body);
  }
}

/** An error from outside Nest that says it is the client's fault (http-errors' `expose`, as body-parser's are). */
function exposedClientError(exception: unknown): { status: number; message: string } | null {
  if (!(exception instanceof Error)) return null;
  const { status, expose } = exception as Error & { status?: unknown; expose?: unknown };
  return expose === true && typeof status === 'number' && status >= 400 && status < 500
    ? { status, message: exception.message }
    : null;
}

export function toHttpErrorBody(exception: unknown): AstralErrorBody {
  if (exception instanceof AstralError) return exception.toBody();
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const r = exception.getResponse();
    if (typeof r === 'object' && r !== null && 'error' in r && 'status' in r) return r as AstralErrorBody;
    const raw = typeof r === 'string' ? r : (r as { message?: unknown }).message;
    const message = Array.isArray(raw)
      ? raw.map(String).join('; ')
      : typeof raw === 'string'
        ? raw
        : exception.message;
    const error =
      status === 404
        ? 'not-found'
        : status === 413
          ? 'payload-too-large'
          : status < 500
            ? 'bad-request'
            : 'unavailable';
    return { status, error, message };
  }
  if (
    exception &&
    typeof exception === 'object' &&
    'type' in exception &&
    (exception as { type: string }).type === 'entity.too.large'
  ) {
    return { status: 413, error: 'payload-too-large', message: 'request body is too large' };
  }
  if (exception instanceof SyntaxError)
    return { status: 400, error: 'bad-request', message: `malformed JSON: ${exception.message}` };
  const client = exposedClientError(exception);
  if (client)
    return {
      status: client.status,
      error: client.status === 413 ? 'payload-too-large' : 'bad-request',
      message: client.message,
    };
  return {
    status: 500,
    error: 'unavailable',
    message: exception instanceof Error ? exception.message : String(exception),
  };
}
