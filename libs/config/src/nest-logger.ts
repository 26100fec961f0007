import { LoggerService } from '@nestjs/common';
import { Logger } from 'pino';

/** Routes Nest's own log calls into the process's pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  private write(level: 'info' | 'warn' | 'error' | 'debug' | 'trace', message: unknown, rest: unknown[]): void {
    const context = rest.length > 0 ? rest[rest.length - 1] : undefined;
    const extra = typeof context === 'string' ? { context } : {};
    if (message instanceof Error) this.logger[level]({ ...extra, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ ...extra, ...message });
    else this.logger[level](extra, String(message));
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    // Nest passes (message, stack, context); keep the stack as a field.
    const [stack, ...others] = rest;
    if (typeof stack === 'string' && stack.includes('\n')) {
      this.logger.error({ stack, context: others[others.length - 1] }, String(message));
    } else this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
}
