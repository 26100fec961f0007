import { ArgumentsHost, BadRequestException, Catch, ExceptionFilter, HttpException, ValidationPipe } from '@nestjs/common';
import { AstralError, AstralErrorBody } from './errors';
import { validationError } from './transport';

interface JsonResponse {
  status(code: number): JsonResponse;
  json(body: unknown): void;
  headersSent?: boolean;
}

/** Maps any error to an HTTP status and an AstralErrorBody, so HTTP and Redis callers see the same errors. */
@Catch()
export class AstralHttpErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<JsonResponse>();
    if (res.headersSent) return;
    const body = toHttpErrorBody(exception);
    res.status(body.status).json(body);
  }
}

export function toHttpErrorBody(exception: unknown): AstralErrorBody {
  if (exception instanceof AstralError) return exception.toBody();
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const r = exception.getResponse();
    if (typeof r === 'object' && r !== null && 'error' in r && 'status' in r) return r as AstralErrorBody;
    const raw = typeof r === 'string' ? r : (r as { message?: unknown }).message;
    const message = Array.isArray(raw) ? raw.map(String).join('; ') : typeof raw === 'string' ? raw : exception.message;
    const error = status === 404 ? 'not-found' : status === 413 ? 'payload-too-large' : status < 500 ? 'bad-request' : 'unavailable';
    return { status, error, message };
  }
  if (exception && typeof exception === 'object' && 'type' in exception && (exception as { type: string }).type === 'entity.too.large') {
    return { status: 413, error: 'payload-too-large', message: 'request body is too large' };
  }
  if (exception instanceof SyntaxError) return { status: 400, error: 'bad-request', message: `malformed JSON: ${exception.message}` };
  return { status: 500, error: 'unavailable', message: exception instanceof Error ? exception.message : String(exception) };
}

/** HTTP body validation that answers 400 with the field errors. */
export function httpValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => new BadRequestException(validationError(errors).toBody()),
  });
}
