import 'reflect-metadata';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';
import { LISTENER_LIMITS_ENV, ListenerLimitsConfig } from './listener-limits-config';
import { parseBitrate } from './units';
import { API_TOKEN_PATTERN } from './api-token';
import { HLS_DEFAULTS } from '@astral/contracts';

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

/** "true"/"1"/"yes" and "false"/"0"/"no" (implicit conversion would make "false" true). */
const toBoolean = ({ obj, key }: { obj: Record<string, unknown>; key: string }): unknown => {
  const value = obj[key];
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  return ['true', '1', 'yes'].includes(v) ? true : ['false', '0', 'no'].includes(v) ? false : value;
};

/**
 * Settings shared by the two processes of one node: its agent and its relay. The listener limits apply
 * to each of its listening ports (RTMP, HTTP-FLV, forward, API).
 */
export class NodeConfig extends ListenerLimitsConfig {
  @IsString()
  @MinLength(1)
  dataDir: string = '.astral/node';

  @IsUrl({ require_tld: false, protocols: ['redis', 'rediss'], require_protocol: true })
  redisUrl: string = 'redis://127.0.0.1:6379';

  /** PEM CA bundle that signs the Redis server's certificate, for a `rediss://` URL (else the system's CAs). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  redisCaFile?: string;

  /** The address the relay binds and advertises. */
  @Matches(/^[A-Za-z0-9.:-]+$/)
  host: string = '127.0.0.1';

  @IsInt()
  @Min(1)
  @Max(65535)
  rtmpPort: number = 1935;

  @IsInt()
  @Min(1)
  @Max(65535)
  httpPort: number = 8000;

  @IsInt()
  @Min(1)
  @Max(65535)
  forwardPort: number = 9000;

  @IsInt()
  @Min(1)
  @Max(65535)
  apiPort: number = 7000;

  /**
   * The address the agent's local API binds; loopback by default, apart from the advertised `host`.
   * Set it (e.g. to the container's or namespace's address) only where the API must be reached from
   * outside the node, and know that its state-changing calls still need the API token.
   */
  @Matches(/^[A-Za-z0-9.:-]+$/)
  apiHost: string = '127.0.0.1';

  /**
   * The agent API's token, instead of the one kept in `<dataDir>/api-token` (created at first start).
   * For a deployment that hands the same secret to the node and to its callers.
   */
  @IsOptional()
  @Matches(API_TOKEN_PATTERN, { message: 'must be at least 32 characters of A-Z a-z 0-9 - _ . ~' })
  apiToken?: string;

  /** Bits per second; unset means unlimited. Accepts 3mbit, 2500k, 800000. */
  @IsOptional()
  @Transform(toBitrate)
  @IsInt({ message: 'must be a bit rate such as 3mbit, 2500k or unlimited' })
  @Min(0)
  uploadLimitBps?: number;

  /**
   * Origin of the directory's web pages (e.g. https://directory.example.org): the only browser origin
   * CORS allows on the node's local API, and the one whose pages may control the node with the
   * `X-Astral-Control: 1` header instead of the API token.
   */
  @IsOptional()
  @IsString()
  directoryOrigin?: string;

  /** How long the relay waits without data before it declares its upstream lost. */
  @IsInt()
  @Min(100)
  @Max(60000)
  stallMs: number = 1500;

  @IsIn(['trace', 'debug', 'info', 'warn', 'error'])
  logLevel: string = 'info';

  /** Static seed supernodes, tried before the directory's list: `nodeId@host:forwardPort`, comma-separated. */
  @IsOptional()
  @Matches(/^([0-9a-f-]{36}@[A-Za-z0-9.:-]+:\d{1,5})(,[0-9a-f-]{36}@[A-Za-z0-9.:-]+:\d{1,5})*$/i, {
    message: 'must be a comma-separated list of nodeId@host:forwardPort',
  })
  seeds?: string;

  /** How many members this node accepts when it is a supernode. */
  @IsInt()
  @Min(1)
  @Max(100000)
  maxChildren: number = 100;

  /** Promote itself when no supernode is left to join (else it waits and retries). */
  @Transform(toBoolean)
  @IsBoolean({ message: 'must be true or false' })
  promoteWhenOrphaned: boolean = true;

  /** Interval of membership and ticket heartbeats; 3 missed end the membership or the ticket. */
  @IsInt()
  @Min(100)
  @Max(60000)
  peerHeartbeatMs: number = 1000;

  /**
   * Lifetime of a signed ticket token (docs/security/tickets.md). Ticket heartbeats bring a fresh one
   * once the current one is past half its life, so it must span a few heartbeats.
   */
  @IsInt()
  @Min(2000)
  @Max(3_600_000)
  ticketTokenTtlMs: number = 60_000;

  /** Bytes a local player (RTMP, HTTP-FLV, WS-FLV) may have queued: past half, cut back to the next keyframe; past all, disconnected. */
  @IsInt()
  @Min(65_536)
  @Max(1_073_741_824)
  playerQueueBytes: number = 8 * 1024 * 1024;

  /** A stream whose publisher disconnected stays live this long, so the same publisher can resume seamlessly. */
  @IsInt()
  @Min(0)
  @Max(600_000)
  publishGraceMs: number = 30_000;

  /**
   * Who may play from this node's relay: `open` (the default) admits any player while the upload budget has
   * room; `placed` admits a remote player only with a valid play token from the directory (`?play=`).
   */
  @IsIn(['open', 'placed'])
  playAccess: 'open' | 'placed' = 'open';

  /**
   * Warm standby (docs/OVERLAY.md "Hitless failover"): a second confirmed ticket on a disjoint path, pulled
   * alongside the upstream so a crash of the upstream loses no frame. `off` (the default); `forwards`: for
   * streams this node forwards to other nodes; `players`: for every stream this node watches. It costs a
   * second copy of the stream's upload at the standby's upstream, counted against its budget.
   */
  @IsIn(['off', 'forwards', 'players'])
  standby: 'off' | 'forwards' | 'players' = 'off';

  /** How the standby is kept: `receiving` (pulled and kept at the live edge) or `idle` (ticket held, pulled on loss). */
  @IsIn(['receiving', 'idle'])
  standbyMode: 'receiving' | 'idle' = 'receiving';

  /**
   * Which players count as local (on the node's own machine: served, never charged to the upload budget):
   * `loopback` (127.0.0.0/8, ::1), `loopback,<address or CIDR>,…` (also a LAN or container network whose players
   * do not cross the uplink) or `none` (every player counts, e.g. a node behind a local proxy).
   */
  @Matches(/^(none|loopback(,[0-9A-Fa-f:.]{2,45}(\/\d{1,3})?){0,32})$/, {
    message: 'must be loopback, none, or loopback followed by comma-separated addresses or CIDR blocks',
  })
  localPlayers: string = 'loopback';

  /**
   * Seeder policy: `all` live streams, or a selector (`id:<glob>`, `title:<text>`, comma-separated; see
   * docs/SEEDING.md). Unset, the node seeds only what it is told to.
   */
  @IsOptional()
  @Matches(/^(all|((id:|title:)?[^,]{1,200})(,(id:|title:)?[^,]{1,200})*)$/, {
    message: 'must be all, or id:<glob> and title:<text> alternatives, comma-separated',
  })
  seed?: string;

  /** A seeded stream without players and forwards this long is dropped (unless its carriers need capacity). */
  @IsInt()
  @Min(1000)
  @Max(86_400_000)
  seedIdleMs: number = 60_000;

  /** Streams seeded at once; unset: as many as the upload limit fits (one copy each). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  seedMaxStreams?: number;

  /** Preview images of the streams this node publishes, sent to the directory (`on` or `off`). */
  @IsIn(['on', 'off'])
  previews: 'on' | 'off' = 'on';

  /** How often a published stream's preview is refreshed. */
  @IsInt()
  @Min(1000)
  @Max(600_000)
  previewIntervalMs: number = 5000;

  /** HLS and LL-HLS of every stream the relay carries, on its HTTP-FLV port (`on` or `off`; docs/RELAY.md "HLS"). */
  @IsIn(['on', 'off'])
  hls: 'on' | 'off' = 'on';

  /** PART-TARGET of LL-HLS in ms: no partial segment is longer. */
  @IsInt()
  @Min(100)
  @Max(2000)
  hlsPartMs: number = HLS_DEFAULTS.partTargetMs;

  /** An HLS segment ends at the first keyframe at or past this duration. */
  @IsInt()
  @Min(500)
  @Max(10_000)
  hlsSegmentMs: number = HLS_DEFAULTS.segmentTargetMs;

  /** Completed HLS segments kept in memory (and listed) per stream. */
  @IsInt()
  @Min(3)
  @Max(60)
  hlsWindowSegments: number = HLS_DEFAULTS.windowSegments;

  /** Bytes of HLS segments kept in memory per stream, at most (the oldest go first past it). */
  @IsInt()
  @Min(1_048_576)
  @Max(1_073_741_824)
  hlsWindowBytes: number = HLS_DEFAULTS.windowBytes;

  /** A stream nobody requested HLS of for this long stops being segmented (it starts again on demand). */
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  hlsIdleMs: number = HLS_DEFAULTS.idleMs;

  /**
   * Records every segmented stream under `<dir>/<streamId>/<epoch>/` (init, segments, an EVENT playlist).
   * Unset (the default): nothing is written.
   */
  @IsOptional()
  @IsString()
  @MinLength(1)
  hlsRecordDir?: string;
}

export interface SeedNode {
  nodeId: string;
  host: string;
  forwardPort: number;
}

export function parseSeeds(seeds: string | undefined): SeedNode[] {
  if (!seeds) return [];
  return seeds.split(',').map((s) => {
    const [nodeId, addr] = s.split('@');
    const i = addr.lastIndexOf(':');
    return { nodeId: nodeId.toLowerCase(), host: addr.slice(0, i), forwardPort: Number(addr.slice(i + 1)) };
  });
}

export const NODE_ENV = {
  dataDir: 'ASTRAL_DATA_DIR',
  redisUrl: 'REDIS_URL',
  redisCaFile: 'ASTRAL_REDIS_CA_FILE',
  host: 'ASTRAL_HOST',
  rtmpPort: 'ASTRAL_RTMP_PORT',
  httpPort: 'ASTRAL_HTTP_PORT',
  forwardPort: 'ASTRAL_FORWARD_PORT',
  apiPort: 'ASTRAL_API_PORT',
  apiHost: 'ASTRAL_API_HOST',
  apiToken: 'ASTRAL_API_TOKEN',
  uploadLimitBps: 'ASTRAL_UPLOAD_LIMIT',
  directoryOrigin: 'ASTRAL_DIRECTORY_ORIGIN',
  stallMs: 'ASTRAL_STALL_MS',
  logLevel: 'ASTRAL_LOG_LEVEL',
  seeds: 'ASTRAL_SEEDS',
  maxChildren: 'ASTRAL_MAX_CHILDREN',
  promoteWhenOrphaned: 'ASTRAL_PROMOTE_WHEN_ORPHANED',
  peerHeartbeatMs: 'ASTRAL_PEER_HEARTBEAT_MS',
  ticketTokenTtlMs: 'ASTRAL_TICKET_TOKEN_TTL_MS',
  ...LISTENER_LIMITS_ENV,
  playerQueueBytes: 'ASTRAL_PLAYER_QUEUE_BYTES',
  publishGraceMs: 'ASTRAL_PUBLISH_GRACE_MS',
  playAccess: 'ASTRAL_PLAY_ACCESS',
  standby: 'ASTRAL_STANDBY',
  standbyMode: 'ASTRAL_STANDBY_MODE',
  localPlayers: 'ASTRAL_LOCAL_PLAYERS',
  seed: 'ASTRAL_SEED',
  seedIdleMs: 'ASTRAL_SEED_IDLE_MS',
  seedMaxStreams: 'ASTRAL_SEED_MAX_STREAMS',
  previews: 'ASTRAL_PREVIEWS',
  previewIntervalMs: 'ASTRAL_PREVIEW_INTERVAL_MS',
  hls: 'ASTRAL_HLS',
  hlsPartMs: 'ASTRAL_HLS_PART_MS',
  hlsSegmentMs: 'ASTRAL_HLS_SEGMENT_MS',
  hlsWindowSegments: 'ASTRAL_HLS_WINDOW_SEGMENTS',
  hlsWindowBytes: 'ASTRAL_HLS_WINDOW_BYTES',
  hlsIdleMs: 'ASTRAL_HLS_IDLE_MS',
  hlsRecordDir: 'ASTRAL_HLS_RECORD_DIR',
} as const;
