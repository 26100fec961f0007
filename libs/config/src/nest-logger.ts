import { LoggerService } from '@nestjs/common';
import { Logger } from 'pino';

/** A line repeated within this window is counted, not written (Redis reconnect attempts, say). */
const REPEAT_WINDOW_MS = 10_000;

/**
 * Routes Nest's own log calls into the process's pino logger. Identical lines within 10 s are folded:
 * the next one written after the window carries `repeated: N`.
 */
export class PinoNestLogger implements LoggerService {
  private readonly recent = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly logger: Logger) {}

  /** Returns how many copies were folded since the last one written, or -1 to drop this one. */
  private fold(key: string): number {
    const now = Date.now();
    const seen = this.recent.get(key);
    if (seen && now - seen.at < REPEAT_WINDOW_MS) {
      seen.suppressed += 1;
      return -1;
    }
    if (this.recent.size > 500) this.recent.clear();
    this.recent.set(key, { at: now, suppressed: 0 });
    return seen?.suppressed ?? 0;
  }

  private write(
    level: 'info' | 'warn' | 'error' | 'debug' | 'trace',
    message: unknown,
    rest: unknown[],
  ): void {
    const context = rest.length > 0 ? rest[rest.length - 1] : undefined;
    const text =
      message instanceof Error
        ? message.message
        : typeof message === 'string'
          ? message
          : (JSON.stringify(message) ?? String(message));
    const repeated = this.fold(`${level}|${String(context)}|${text}`);
    if (repeated < 0) return;
    const extra = { ...(typeof context === 'string' && { context }), ...(repeated > 0 && { repeated }) };
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
      if (this.fold(`error|${String(message)}`) < 0) return;
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
