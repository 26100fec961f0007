import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { RedisContext } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';
import { AstralErrorBody } from '@astral/contracts';
import { toRpcException } from '@astral/transport';

/**
 * AstralRpcErrorFilter with a log line: answers every failed control request with an AstralErrorBody
 * (validation errors as 400 naming the fields), and logs it, a warning for a refused request, an error
 * for a failure of the relay's own.
 */
@Catch()
export class RelayControlErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RelayControl');

  catch(exception: unknown, host: ArgumentsHost): Observable<unknown> {
    const body = toRpcException(exception).getError() as AstralErrorBody;
    const channel = host.switchToRpc().getContext<RedisContext>().getChannel?.();
    const status = typeof body === 'object' && body !== null ? body.status : undefined;
    if (typeof status === 'number' && status < 500) {
      this.logger.warn({
        msg: 'control request refused',
        channel,
        status,
        error: body.message,
        fields: body.fields,
      });
    } else {
      this.logger.error({
        msg: 'control request failed',
        channel,
        err: exception instanceof Error ? { message: exception.message, stack: exception.stack } : exception,
      });
    }
    return throwError(() => body);
  }
}
