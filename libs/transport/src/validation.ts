import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AstralError } from '@astral/contracts';

/** class-validator's nested errors as property path to messages (`offer.host: [...]`). */
export function flattenFields(errors: ValidationError[], prefix = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors) {
    const key = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) out[key] = Object.values(e.constraints);
    if (e.children?.length) Object.assign(out, flattenFields(e.children, key));
  }
  return out;
}

export function validationError(errors: ValidationError[]): AstralError {
  const fields = flattenFields(errors);
  return new AstralError(
    'bad-request',
    `invalid message: ${Object.keys(fields).join(', ') || 'malformed body'}`,
    fields,
  );
}

/**
 * The one validation pipe, for HTTP bodies and queries and for bus payloads alike: a refusal is an
 * AstralError 'bad-request' naming the fields, and the app's exception filter answers it in the shape
 * of the side it came from (an HTTP 400 JSON body, or a 400 AstralErrorBody over Redis). See useValidation.
 */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => validationError(errors),
  });
}
