import 'reflect-metadata';
import { IsInt, Max, Min } from 'class-validator';

/**
 * The connection limits of a process's listening ports, shared by the node's and the directory's
 * configuration (each port of the process has its own ListenerGuard with these limits).
 */
export class ListenerLimitsConfig {
  /** Connections one listening port holds open at once; more are refused. */
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxConnections: number = 10_000;

  /** Connections one remote address may hold open on one port. */
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxConnectionsPerAddress: number = 1_000;

  /** From accept until the peer has said what it wants (HTTP request head; RTMP handshake, connect and publish/play). */
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

/** The environment variables of the listener limits, the same for every process. */
export const LISTENER_LIMITS_ENV = {
  maxConnections: 'ASTRAL_MAX_CONNECTIONS',
  maxConnectionsPerAddress: 'ASTRAL_MAX_CONNECTIONS_PER_ADDRESS',
  handshakeTimeoutMs: 'ASTRAL_HANDSHAKE_TIMEOUT_MS',
  idleTimeoutMs: 'ASTRAL_IDLE_TIMEOUT_MS',
} as const;

/** The limits of one listening port, as libs/net's ListenerGuard takes them. */
export function listenerLimits(config: ListenerLimitsConfig): {
  maxConnections: number;
  maxPerAddress: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
} {
  return {
    maxConnections: config.maxConnections,
    maxPerAddress: config.maxConnectionsPerAddress,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
  };
}
