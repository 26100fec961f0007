import {
  IsBoolean,
  IsIn,
  IsObject,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { STREAM_ID_PATTERN } from './streams';
import { DirectoryLink } from './nodes';
import type { HlsStreamStats } from './hls';

export class AuthorizePublish {
  @Matches(STREAM_ID_PATTERN)
  streamId!: string;

  /** sha256 of the stream key, hex. The key itself never leaves the agent. */
  @Matches(/^[a-f0-9]{64}$/)
  keyHash!: string;
}

/**
 * A live ticket the relay may serve. The downstream still shows the ticket's signed token and proves it
 * holds the token's downstream key (docs/security/tickets.md); the admission is what a revoke or a
 * closed forward takes away, so an ended ticket's token is refused while it has not expired.
 */
export class AdmitForward {
  @IsUUID()
  ticketId!: string;

  @Matches(STREAM_ID_PATTERN)
  streamId!: string;

  @IsUUID()
  downstreamNodeId!: string;
}

export class RevokeForward {
  @IsUUID()
  ticketId!: string;

  @IsString()
  @MaxLength(200)
  reason!: string;
}

export class OpenUpstream {
  @Matches(STREAM_ID_PATTERN)
  streamId!: string;

  @IsUUID()
  upstreamNodeId!: string;

  /** The ticket the pull is for: the relay signs its proof of possession for it on every connect. */
  @IsUUID()
  ticketId!: string;

  /** The upstream's forward URL with the ticket token, built by the agent from the directory's listing. */
  @IsUrl({ require_tld: false, protocols: ['http'], require_protocol: true })
  @MaxLength(4096)
  url!: string;

  /**
   * `primary` (the default): the pull that feeds the stream (a switch is make-before-break).
   * `standby`: a second pull on a disjoint path, kept alongside (docs/OVERLAY.md "Hitless failover"); when
   * the primary is lost the relay splices to it at the first tag not yet delivered and reports
   * UpstreamLost with `promotedNodeId`. A new standby replaces the previous one.
   */
  @IsOptional()
  @IsIn(['primary', 'standby'])
  role?: 'primary' | 'standby';

  /** For a standby: `receiving` (pulled now, kept at the live edge; the default) or `idle` (pulled on loss). */
  @IsOptional()
  @IsIn(['receiving', 'idle'])
  standbyMode?: 'receiving' | 'idle';
}

export class CloseUpstream {
  @Matches(STREAM_ID_PATTERN)
  streamId!: string;

  /** `standby`: close only the standby pull; absent: the whole stream (the node stopped watching). */
  @IsOptional()
  @IsIn(['standby'])
  role?: 'standby';
}

export class SetUploadLimit {
  /** Bits per second; absent means unlimited. */
  @IsOptional()
  @IsInt()
  @Min(0)
  uploadLimitBps?: number;
}

/**
 * The upload the agent has promised to forward tickets (offered and confirmed), so the relay admits a
 * player only if forwards + players + the new player's bit rate fit the upload limit (docs/RELAY.md, "Budget").
 */
export class SetPlayerBudget {
  @IsInt()
  @Min(0)
  @Max(1_000_000_000_000)
  forwardCommittedBps!: number;
}

/**
 * What the agent learned from the directory's registration reply: the key that signs play tokens and
 * where a full node sends a new player. Absent fields are unknown (the relay forgets the previous value).
 */
export class SetDirectoryLink extends DirectoryLink {}

export class RelayStreamEvent {
  @IsUUID()
  nodeId!: string;

  @Matches(STREAM_ID_PATTERN)
  streamId!: string;

  @IsIn(['publish', 'upstream'])
  origin!: 'publish' | 'upstream';
}

export class UpstreamLost {
  @IsUUID()
  nodeId!: string;

  @Matches(STREAM_ID_PATTERN)
  streamId!: string;

  @IsOptional()
  @IsUUID()
  upstreamNodeId?: string;

  @IsString()
  @MaxLength(200)
  reason!: string;

  /**
   * The standby from this node took over without a gap: it is the stream's upstream now, and the lost
   * one's ticket can be cancelled. The agent should find a new standby.
   */
  @IsOptional()
  @IsUUID()
  promotedNodeId?: string;

  /** The lost pull was the standby (the primary goes on): find another standby. */
  @IsOptional()
  @IsBoolean()
  standby?: boolean;
}

export class ForwardClosed {
  @IsUUID()
  nodeId!: string;

  @IsUUID()
  ticketId!: string;

  @IsString()
  @MaxLength(200)
  reason!: string;
}

export class RelayStatsReport {
  @IsUUID()
  nodeId!: string;

  /** RelayStats; checked as an object only, since our own relay produces it. */
  @IsObject()
  stats!: RelayStats;
}

export class RelayReady {
  @IsUUID()
  nodeId!: string;
}

export interface ForwardConnectionStats {
  ticketId: string;
  downstreamNodeId: string;
  bytesSent: number;
  queuedBytes: number;
  lagMs: number;
  droppedTags: number;
  state: 'joining' | 'live' | 'lagging' | 'closed';
}

/** Fields marked optional are filled by every relay of this version; readers default them (older relays). */
export interface RelayStreamStats {
  streamId: string;
  origin: 'publish' | 'upstream';
  upstreamNodeId: string | null;
  bitrateBps: number;
  peakBitrateBps: number;
  fps: number;
  keyframeIntervalMs: number | null;
  /** All players of the local media server (RTMP, HTTP-FLV, WS-FLV), local and remote. */
  viewers: number;
  /** Players that cost upload (not local): admitted against the budget. */
  players?: number;
  /** Players on the node's own machine (loopback by default, `--local-players`): served, never counted. */
  localPlayers?: number;
  /** Remote players that showed a valid play token (placed by the directory); the rest came unplaced. */
  placedPlayers?: number;
  /** The video's size from its AVC sequence header, null until known. */
  width?: number | null;
  height?: number | null;
  forwards: ForwardConnectionStats[];
  /** What the stream holds in memory: its GOP cache (wire buffers shared by every joiner) and its forwards' queues. */
  memory?: RelayStreamMemory;
  tagsIn: number;
  lastTagAt: number | null;
  /** HLS sessions of the stream (docs/RELAY.md "HLS"); they are counted in players/localPlayers too. */
  hlsPlayers?: number;
  /** The stream's HLS segmenter while it is segmented (on demand), else null. */
  hls?: HlsStreamStats | null;
  /** The stream's warm standby pull (docs/RELAY.md "Standby"), null without one. */
  standby?: RelayStandbyStats | null;
}

export interface RelayStreamMemory {
  /** Bytes of the cached GOP (from its keyframe) and its headers. */
  gopCacheBytes: number;
  gopCacheTags: number;
  /** Bytes queued in the stream's forward connections (shared buffers: references to the same tags, at most). */
  forwardQueuedBytes: number;
}

/** The relay process's memory (process.memoryUsage at the report). */
export interface RelayMemoryStats {
  rssBytes: number;
  heapUsedBytes: number;
  /** Buffers outside the V8 heap: socket chunks, tags, queues. */
  arrayBuffersBytes: number;
}

export interface RelayStandbyStats {
  upstreamNodeId: string;
  mode: 'receiving' | 'idle';
  /** The pull is open (always for `receiving`; for `idle`, only once it took over). */
  connected: boolean;
  /** Its timeline is aligned with the primary's: a loss now is spliced without a gap. */
  aligned: boolean;
  /** Bytes this standby received so far. */
  bytesIn: number;
}

export interface RelayStats {
  nodeId: string;
  uploadLimitBps: number | null;
  /** Upload at the last report, forwards and remote players together (bits per second). */
  egressBps: number;
  /** The part of egressBps that went to remote players. */
  playerBps?: number;
  /** Bit rate promised to forward tickets, as the agent last told the relay. */
  forwardCommittedBps?: number;
  /** Bit rate held by admitted remote players (each at the larger of its admission rate and the stream's now). */
  playerCommittedBps?: number;
  /** Players refused since start: the budget was full, or their play token was bad or missing. */
  playersRefused?: number;
  /** Bytes of every HLS response body since start (playlists and media; counted in playerBps when remote). */
  hlsBytes?: number;
  /** Bytes received by standby pulls since start (their upstreams' upload for a warm standby). */
  standbyBytesIn?: number;
  /** Primaries lost with a standby that took over, and of those the splices that fell back to a keyframe. */
  standbyPromotions?: number;
  standbySpliceFallbacks?: number;
  memory?: RelayMemoryStats;
  streams: RelayStreamStats[];
}
