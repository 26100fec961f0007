import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { RedisContext, RpcException } from '@nestjs/microservices';
import { Response } from 'express';
import { Observable, throwError } from 'rxjs';
import { AstralError, AstralErrorBody } from '@astral/contracts';
import { LogThrottle } from '@astral/net';
import { toRpcException } from '@astral/transport';
import { NotReady } from '../health/health.controller';

const CODES: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'no-capacity',
  503: 'unavailable',
  504: 'timeout',
};

function isErrorBody(value: unknown): value is AstralErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AstralErrorBody).status === 'number' &&
    typeof (value as AstralErrorBody).error === 'string' &&
    typeof (value as AstralErrorBody).message === 'string'
  );
}

/** Errors from outside Nest (body-parser's "too large", for one) carry an HTTP status of their own. */
function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const s =
    (err as { status?: unknown; statusCode?: unknown }).status ??
    (err as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' && s >= 400 && s < 600 ? s : undefined;
}

/** Every error as an AstralErrorBody, whichever side it came from. */
export function toErrorBody(err: unknown): AstralErrorBody {
  if (err instanceof AstralError) return err.toBody();
  if (err instanceof RpcException) {
    const inner = err.getError();
    if (isErrorBody(inner)) return inner;
    return {
      status: 400,
      error: 'bad-request',
      message: typeof inner === 'string' ? inner : JSON.stringify(inner),
    };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    return { status, error: CODES[status] ?? 'error', message: err.message };
  }
  const status = statusOf(err);
  if (status !== undefined && status < 500) {
    return {
      status,
      error: CODES[status] ?? 'error',
      message: err instanceof Error ? err.message : String(err),
    };
  }
  return { status: 500, error: 'internal', message: 'internal error' };
}

/**
 * The one exception filter of the hybrid app. Over HTTP it answers with the AstralErrorBody as JSON
 * and its status; over Redis it answers with the same body as the RpcException payload, which the
 * client side (`request()` in @astral/transport) turns back into an AstralError.
 */
@Catch()
export class AstralExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');
  /** Rate-limited requests come in floods: one line per address per 10 s, with the count passed over. */
  private readonly floods = new LogThrottle(10_000);

  catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') {
      const body = toErrorBody(exception);
      const channel = host.switchToRpc().getContext<RedisContext>().getChannel?.();
      this.log(body, exception, { channel });
      const rpc = body.status === 500 ? toRpcException(exception) : new RpcException(body);
      return throwError(() => rpc.getError());
    }
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<{ method?: string; url?: string; ip?: string }>();
    const body = toErrorBody(exception);
    const suppressed = body.status === 429 ? this.floods.take(`429 ${req.ip}`) : 0;
    if (suppressed !== null)
      this.log(body, exception, {
        method: req.method,
        url: req.url,
        address: req.ip,
        ...(suppressed && { suppressed }),
      });
    if (res.headersSent) return;
    // Readiness failures keep terminus's body, which names the failing checks.
    if (exception instanceof NotReady) res.status(503).json(exception.getResponse());
    else res.status(body.status).json(body);
  }

  private log(body: AstralErrorBody, exception: unknown, where: Record<string, unknown>): void {
    if (body.status >= 500) {
      this.logger.error({
        msg: 'request failed',
        ...where,
        err: exception instanceof Error ? { message: exception.message, stack: exception.stack } : exception,
      });
    } else {
      this.logger.warn({
        msg: 'request rejected',
        ...where,
        status: body.status,
        error: body.message,
        fields: body.fields,
      });
    }
  }
}
