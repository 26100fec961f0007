import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { PUBLIC_URL_PATTERN } from '@astral/contracts';
import { EnvMap, LISTENER_LIMITS_ENV, ListenerLimitsConfig } from '@astral/config';

/**
 * Settings of the directory service, read once from the environment by `loadConfig`. Every property
 * has an explicit type: loadConfig's implicit conversion of env strings relies on the emitted
 * design:type, which is `Object` for an unannotated initialiser under SWC. The listener limits apply to
 * its HTTP port.
 */
export class DirectoryConfig extends ListenerLimitsConfig {
  /** HTTP port; 0 picks a free one (the bound port is reported by startDirectory). */
  @IsInt()
  @Min(0)
  @Max(65535)
  port: number = 8080;

  @Matches(/^[A-Za-z0-9.:-]+$/, { message: 'must be a hostname or an IP address' })
  host: string = '127.0.0.1';

  @IsUrl({ require_tld: false, protocols: ['redis', 'rediss'], require_protocol: true })
  redisUrl: string = 'redis://127.0.0.1:6379';

  /** PEM CA bundle that signs the Redis server's certificate, for a `rediss://` URL (else the system's CAs). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  redisCaFile?: string;

  /** Holds the SQLite file when no DATABASE_URL is set. */
  @IsString()
  @MinLength(1)
  dataDir: string = '.astral/directory';

  /** PostgreSQL connection URL; unset means embedded SQLite in dataDir. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// or postgresql:// URL' })
  databaseUrl?: string;

  /** How often nodes heartbeat; a node silent for 3 intervals plus a second expires. */
  @IsInt()
  @Min(50)
  @Max(600000)
  heartbeatIntervalMs: number = 2000;

  @IsIn(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
  logLevel: string = 'info';

  /**
   * The operator's token for the HTTP API (`Authorization: Bearer <token>`): may do everything. Unset, no
   * request acts as the operator, and routes only the operator may call are closed.
   */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters (e.g. `openssl rand -base64 32`)' })
  @MaxLength(1024)
  operatorToken?: string;

  /** HTTP reads (GET, HEAD) one address may make per second: API, pages and docs; 0 is unlimited. */
  @IsInt()
  @Min(0)
  httpReadsPerSecond: number = 50;

  /** HTTP writes (POST, PUT, PATCH, DELETE) one address may make per second; 0 is unlimited. */
  @IsInt()
  @Min(0)
  httpWritesPerSecond: number = 10;

  /**
   * Where viewers reach the directory, `http(s)://host[:port]` without a path: given to nodes (a full node redirects
   * a new player to `<publicUrl>/streams/<id>/play.flv`, or `play.m3u8` for HLS). Unset: the address the directory listens on.
   */
  @IsOptional()
  @MaxLength(300)
  @Matches(PUBLIC_URL_PATTERN, {
    message: 'must be http(s)://host[:port], without a path or a trailing slash',
  })
  publicUrl?: string;
}

export const DIRECTORY_ENV: EnvMap<DirectoryConfig> = {
  port: 'ASTRAL_DIRECTORY_PORT',
  host: 'ASTRAL_DIRECTORY_HOST',
  redisUrl: 'REDIS_URL',
  redisCaFile: 'ASTRAL_REDIS_CA_FILE',
  dataDir: 'ASTRAL_DATA_DIR',
  databaseUrl: 'DATABASE_URL',
  heartbeatIntervalMs: 'ASTRAL_HEARTBEAT_MS',
  logLevel: 'ASTRAL_LOG_LEVEL',
  operatorToken: 'ASTRAL_OPERATOR_TOKEN',
  httpReadsPerSecond: 'ASTRAL_HTTP_READS_PER_S',
  httpWritesPerSecond: 'ASTRAL_HTTP_WRITES_PER_S',
  publicUrl: 'ASTRAL_PUBLIC_URL',
  ...LISTENER_LIMITS_ENV,
};

/** A node that has not been seen for this long is removed. */
export function expiryAfterMs(config: Pick<DirectoryConfig, 'heartbeatIntervalMs'>): number {
  return 3 * config.heartbeatIntervalMs + 1000;
}
