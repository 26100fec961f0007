import { Command } from 'commander';

const REDIS_FLAG = { flag: 'redis', env: 'REDIS_URL', description: 'Redis URL, e.g. redis://127.0.0.1:6379' };
const REDIS_CA_FLAG = {
  flag: 'redis-ca-file',
  env: 'ASTRAL_REDIS_CA_FILE',
  description: "PEM CA bundle of the Redis server's certificate, for rediss://",
};
const LOG_LEVEL_FLAG = {
  flag: 'log-level',
  env: 'ASTRAL_LOG_LEVEL',
  description: 'trace, debug, info, warn or error',
};

/** The CLI flags of a node (agent and relay) and the NodeConfig environment variables they set. */
export const NODE_FLAGS: { flag: string; env: string; description: string }[] = [
  { flag: 'data-dir', env: 'ASTRAL_DATA_DIR', description: 'data directory (holds the node id)' },
  REDIS_FLAG,
  REDIS_CA_FLAG,
  { flag: 'host', env: 'ASTRAL_HOST', description: 'address the relay binds and advertises' },
  { flag: 'rtmp-port', env: 'ASTRAL_RTMP_PORT', description: 'RTMP port (publish and play)' },
  {
    flag: 'http-port',
    env: 'ASTRAL_HTTP_PORT',
    description: 'HTTP port: HTTP-FLV (publish and play), HLS and LL-HLS (play)',
  },
  {
    flag: 'forward-port',
    env: 'ASTRAL_FORWARD_PORT',
    description: 'port serving streams to downstream relays',
  },
  { flag: 'api-port', env: 'ASTRAL_API_PORT', description: "agent's local HTTP API port" },
  {
    flag: 'api-host',
    env: 'ASTRAL_API_HOST',
    description: "address the agent's API binds (default 127.0.0.1)",
  },
  {
    flag: 'upload-limit',
    env: 'ASTRAL_UPLOAD_LIMIT',
    description: 'upload limit, e.g. 3mbit, 2500k, unlimited',
  },
  {
    flag: 'directory-origin',
    env: 'ASTRAL_DIRECTORY_ORIGIN',
    description: 'directory web origin (the only page origin allowed to control the node)',
  },
  {
    flag: 'stall-ms',
    env: 'ASTRAL_STALL_MS',
    description: 'ms without data before the upstream counts as lost',
  },
  LOG_LEVEL_FLAG,
  {
    flag: 'seeds',
    env: 'ASTRAL_SEEDS',
    description: 'seed supernodes: nodeId@host:forwardPort, comma-separated',
  },
  {
    flag: 'max-children',
    env: 'ASTRAL_MAX_CHILDREN',
    description: 'members accepted as a supernode (default 100)',
  },
  {
    flag: 'promote-when-orphaned',
    env: 'ASTRAL_PROMOTE_WHEN_ORPHANED',
    description: 'true or false: promote when no supernode takes the node',
  },
  {
    flag: 'peer-heartbeat-ms',
    env: 'ASTRAL_PEER_HEARTBEAT_MS',
    description: 'membership and ticket heartbeat interval (3 missed end them)',
  },
  {
    flag: 'ticket-token-ttl-ms',
    env: 'ASTRAL_TICKET_TOKEN_TTL_MS',
    description: 'lifetime of a signed ticket token (heartbeats refresh it)',
  },
  {
    flag: 'standby',
    env: 'ASTRAL_STANDBY',
    description: 'off, forwards or players: hold a warm standby upstream (no frame lost on a crash)',
  },
  {
    flag: 'standby-mode',
    env: 'ASTRAL_STANDBY_MODE',
    description: 'receiving (pulled at the live edge) or idle (ticket held, pulled on loss)',
  },
  {
    flag: 'play-access',
    env: 'ASTRAL_PLAY_ACCESS',
    description: 'open (any player while the budget has room) or placed (remote players need a play token)',
  },
  {
    flag: 'local-players',
    env: 'ASTRAL_LOCAL_PLAYERS',
    description: 'which players cost no upload: loopback (default), loopback,<address or CIDR>,… or none',
  },
  {
    flag: 'seed',
    env: 'ASTRAL_SEED',
    description: 'seeder policy: all, or id:<glob>,title:<text> (seed streams that need capacity)',
  },
  {
    flag: 'seed-idle-ms',
    env: 'ASTRAL_SEED_IDLE_MS',
    description: 'ms without players and forwards before a seeded stream is dropped (default 60000)',
  },
  {
    flag: 'seed-max-streams',
    env: 'ASTRAL_SEED_MAX_STREAMS',
    description: 'streams seeded at once (default: as many as the upload limit fits)',
  },
  {
    flag: 'previews',
    env: 'ASTRAL_PREVIEWS',
    description: 'on or off: send preview images of published streams to the directory (default on)',
  },
  {
    flag: 'hls',
    env: 'ASTRAL_HLS',
    description: 'on or off: serve HLS and LL-HLS of every stream on the HTTP port (default on)',
  },
  { flag: 'hls-part-ms', env: 'ASTRAL_HLS_PART_MS', description: 'LL-HLS part target in ms (default 333)' },
  {
    flag: 'hls-segment-ms',
    env: 'ASTRAL_HLS_SEGMENT_MS',
    description: 'HLS segment target in ms, cut at the next keyframe (default 2000)',
  },
  {
    flag: 'hls-record-dir',
    env: 'ASTRAL_HLS_RECORD_DIR',
    description: 'record every segmented stream under <dir>/<streamId>/<epoch>/ (default: off)',
  },
];

export const DIRECTORY_FLAGS: { flag: string; env: string; description: string }[] = [
  { flag: 'port', env: 'ASTRAL_DIRECTORY_PORT', description: 'HTTP port (default 8080)' },
  { flag: 'host', env: 'ASTRAL_DIRECTORY_HOST', description: 'address to bind' },
  { flag: 'data-dir', env: 'ASTRAL_DATA_DIR', description: 'data directory (SQLite database)' },
  REDIS_FLAG,
  REDIS_CA_FLAG,
  {
    flag: 'database-url',
    env: 'DATABASE_URL',
    description: 'PostgreSQL URL (default: SQLite in the data dir)',
  },
  { flag: 'heartbeat-ms', env: 'ASTRAL_HEARTBEAT_MS', description: 'expected node heartbeat interval' },
  LOG_LEVEL_FLAG,
  {
    flag: 'public-url',
    env: 'ASTRAL_PUBLIC_URL',
    description:
      'where viewers reach the directory, http(s)://host[:port] (default: the address it listens on)',
  },
];

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function addFlags(cmd: Command, flags: typeof NODE_FLAGS): Command {
  for (const f of flags) cmd.option(`--${f.flag} <value>`, `${f.description} [${f.env}]`);
  return cmd;
}

/** This process's environment overlaid with the variables set by the given flags. */
export function envFromFlags(flags: typeof NODE_FLAGS, opts: Record<string, unknown>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const f of flags) {
    const value = opts[camel(f.flag)];
    if (typeof value === 'string') env[f.env] = value;
  }
  return env;
}
