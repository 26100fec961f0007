import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';
import { AstralError } from '@astral/contracts';

/** Turns a domain error into what the Redis transport sends back. */
export function toRpcException(err: unknown): RpcException {
  if (err instanceof RpcException) return err;
  if (err instanceof AstralError) return new RpcException(err.toBody());
  const message = err instanceof Error ? err.message : String(err);
  return new RpcException(new AstralError('unavailable', message).toBody());
}

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
