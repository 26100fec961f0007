import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import { toRpcException } from './transport';

/**
 * Answers every failed Redis request with an AstralErrorBody ({status, error, message, fields}),
 * whatever was thrown: validation errors, domain errors, or bugs (as 'unavailable').
 */
@Catch()
export class AstralRpcErrorFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<unknown> {
    return throwError(() => toRpcException(exception).getError());
  }
}
