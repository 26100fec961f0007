import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength } from 'class-validator';
import { EnvMap } from '@astral/config';
import type { ListenerLimits } from '@astral/net';

/**
 * Settings of the directory service, read once from the environment by `loadConfig`. Every property
 * has an explicit type: loadConfig's implicit conversion of env strings relies on the emitted
 * design:type, which is `Object` for an unannotated initialiser under SWC.
 */
export class DirectoryConfig {
  /** HTTP port; 0 picks a free one (the bound port is reported by startDirectory). */
  @IsInt()
  @Min(0)
  @Max(65535)
  port: number = 8080;

  @Matches(/^[A-Za-z0-9.:-]+$/, { message: 'must be a hostname or an IP address' })
  host: string = '127.0.0.1';

  @IsUrl({ require_tld: false, protocols: ['redis', 'rediss'], require_protocol: true })
  redisUrl: string = 'redis://127.0.0.1:6379';

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

  /** Connections the HTTP port holds open at once; more are refused (as a node's ports). */
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxConnections: number = 10_000;

  /** Connections one remote address may hold open on the HTTP port. */
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxConnectionsPerAddress: number = 1_000;

  /** From accept until a whole HTTP request head has arrived. */
  @IsInt()
  @Min(100)
  @Max(600_000)
  handshakeTimeoutMs: number = 10_000;

  /** A connection with no byte read or written for this long is closed. */
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  idleTimeoutMs: number = 60_000;
}

export const DIRECTORY_ENV: EnvMap<DirectoryConfig> = {
  port: 'ASTRAL_DIRECTORY_PORT',
  host: 'ASTRAL_DIRECTORY_HOST',
  redisUrl: 'REDIS_URL',
  dataDir: 'ASTRAL_DATA_DIR',
  databaseUrl: 'DATABASE_URL',
  heartbeatIntervalMs: 'ASTRAL_HEARTBEAT_MS',
  logLevel: 'ASTRAL_LOG_LEVEL',
  maxConnections: 'ASTRAL_MAX_CONNECTIONS',
  maxConnectionsPerAddress: 'ASTRAL_MAX_CONNECTIONS_PER_ADDRESS',
  handshakeTimeoutMs: 'ASTRAL_HANDSHAKE_TIMEOUT_MS',
  idleTimeoutMs: 'ASTRAL_IDLE_TIMEOUT_MS',
};

/** The limits of the directory's HTTP port, as libs/net's ListenerGuard takes them. */
export function directoryListenerLimits(config: DirectoryConfig): ListenerLimits {
  return {
    maxConnections: config.maxConnections,
    maxPerAddress: config.maxConnectionsPerAddress,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
  };
}

/** A node that has not been seen for this long is removed. */
export function expiryAfterMs(config: Pick<DirectoryConfig, 'heartbeatIntervalMs'>): number {
  return 3 * config.heartbeatIntervalMs + 1000;
}
