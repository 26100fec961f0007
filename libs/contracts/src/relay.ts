import {
  IsIn,
  IsObject,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Matches,
  MaxLength,
  Min,
} from 'class-validator';
import { STREAM_ID_PATTERN } from './streams';

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
}

export class CloseUpstream {
  @Matches(STREAM_ID_PATTERN)
  streamId!: string;
}

export class SetUploadLimit {
  /** Bits per second; absent means unlimited. */
  @IsOptional()
  @IsInt()
  @Min(0)
  uploadLimitBps?: number;
}

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

export interface RelayStreamStats {
  streamId: string;
  origin: 'publish' | 'upstream';
  upstreamNodeId: string | null;
  bitrateBps: number;
  peakBitrateBps: number;
  fps: number;
  keyframeIntervalMs: number | null;
  viewers: number;
  forwards: ForwardConnectionStats[];
  tagsIn: number;
  lastTagAt: number | null;
}

export interface RelayStats {
  nodeId: string;
  uploadLimitBps: number | null;
  egressBps: number;
  streams: RelayStreamStats[];
}
