import pino, { DestinationStream, Logger } from 'pino';

/** Fields whose values are secrets wherever they appear in a log object. */
export const REDACT_PATHS = [
  'key',
  'token',
  'password',
  '*.key',
  '*.token',
  '*.password',
  'apiToken',
  '*.apiToken',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
];

/** Query-string secrets inside free text, e.g. a URL with ?key=… or &ticket=…. */
const SECRET_IN_TEXT = /([?&](?:key|token|ticket|sign)=)[^&\s"']+/gi;

export function scrubSecrets(text: string): string {
  return text.replace(SECRET_IN_TEXT, '$1[redacted]');
}

/**
 * The structured JSON logger of every Astral process: one line per event, with the app and node id
 * on each line, secrets redacted.
 */
export function createLogger(
  app: string,
  nodeId: string | undefined,
  level = 'info',
  destination?: DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { app, ...(nodeId && { nodeId }), pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as typeof args;
        method.apply(this, scrubbed);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
