import 'reflect-metadata';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength } from 'class-validator';
import { parseBitrate } from './units';

/** Reads the raw string (implicit conversion would already have made "3mbit" a NaN). */
const toBitrate = ({ obj, key }: { obj: Record<string, unknown>; key: string }): unknown => {
  const value = obj[key];
  if (typeof value !== 'string') return value;
  try {
    return parseBitrate(value) ?? undefined;
  } catch {
    return Number.NaN;
  }
};

/** Settings shared by the two processes of one node: its agent and its relay. */
export class NodeConfig {
  @IsString() @MinLength(1)
  dataDir: string = '.astral/node';

  @IsUrl({ require_tld: false, protocols: ['redis', 'rediss'], require_protocol: true })
  redisUrl: string = 'redis://127.0.0.1:6379';

  /** The address the relay binds and advertises. */
  @Matches(/^[A-Za-z0-9.:-]+$/)
  host: string = '127.0.0.1';

  @IsInt() @Min(1) @Max(65535)
  rtmpPort: number = 1935;

  @IsInt() @Min(1) @Max(65535)
  httpPort: number = 8000;

  @IsInt() @Min(1) @Max(65535)
  forwardPort: number = 9000;

  @IsInt() @Min(1) @Max(65535)
  apiPort: number = 7000;

  /** Bits per second; unset means unlimited. Accepts 3mbit, 2500k, 800000. */
  @IsOptional() @Transform(toBitrate) @IsInt({ message: 'must be a bit rate such as 3mbit, 2500k or unlimited' }) @Min(0)
  uploadLimitBps?: number;

  /** Origin of the directory's web pages, allowed by CORS on the node's local API. */
  @IsOptional() @IsString()
  directoryOrigin?: string;

  /** How long the relay waits without data before it declares its upstream lost. */
  @IsInt() @Min(100) @Max(60000)
  stallMs: number = 1500;

  @IsIn(['trace', 'debug', 'info', 'warn', 'error'])
  logLevel: string = 'info';
}

export const NODE_ENV = {
  dataDir: 'ASTRAL_DATA_DIR',
  redisUrl: 'REDIS_URL',
  host: 'ASTRAL_HOST',
  rtmpPort: 'ASTRAL_RTMP_PORT',
  httpPort: 'ASTRAL_HTTP_PORT',
  forwardPort: 'ASTRAL_FORWARD_PORT',
  apiPort: 'ASTRAL_API_PORT',
  uploadLimitBps: 'ASTRAL_UPLOAD_LIMIT',
  directoryOrigin: 'ASTRAL_DIRECTORY_ORIGIN',
  stallMs: 'ASTRAL_STALL_MS',
  logLevel: 'ASTRAL_LOG_LEVEL',
} as const;
