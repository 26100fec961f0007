import { ArrayMaxSize, IsArray, IsBoolean, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { STREAM_ID } from './streams';

/** A viewer's agent asks a candidate for a ticket: a promise to forward one stream to it. */
export class TicketRequest {
  @Matches(STREAM_ID)
  streamId!: string;

  @IsUUID()
  requesterId!: string;

  /** Nodes the requester will not take the stream from (its descendants and lost upstreams). */
  @IsOptional() @IsArray() @ArrayMaxSize(1000) @IsUUID('all', { each: true })
  exclude?: string[];

  /** Whether the requester can forward the stream itself (its upload limit is not 0). */
  @IsOptional() @IsBoolean()
  canForward?: boolean;

  /** The requester has waited long: it may take a forwarder's last free slots even if it cannot forward. */
  @IsOptional() @IsBoolean()
  patient?: boolean;
}

export class TicketConfirm {
  @IsUUID()
  ticketId!: string;

  @IsUUID()
  requesterId!: string;
}

export class TicketCancel {
  @IsUUID()
  ticketId!: string;

  @IsUUID()
  requesterId!: string;

  @IsString() @MaxLength(200)
  reason!: string;
}

export interface TicketOffer {
  ticketId: string;
  streamId: string;
  /** The offering node. */
  nodeId: string;
  /** Distance from the source: the source offers 1, its children 2, ... */
  hops: number;
  /** The offering node's upstream path, source first, itself last: a requester on it would make a loop. */
  path: string[];
  /** Spare upload after this forward, bits per second (Infinity is sent as null). */
  headroomBps: number | null;
  /** The offer lapses if not confirmed by then (epoch ms). */
  expiresAt: number;
  host: string;
  forwardPort: number;
  /**
   * The stream's bit rate as the offerer measures it (bits/s). The requester admits its own downstream
   * requests with it until its relay has measured the stream itself (about a second after the pull).
   */
  bitrateBps?: number;
}

export type TicketReply = { offer: TicketOffer } | { refused: string };

export interface TicketConfirmReply {
  ticketId: string;
  /** Where the requester's relay pulls from, token included. */
  forwardUrl: string;
}

/** The downstream's heartbeat for a confirmed ticket; the reply is the upstream's heartbeat back. */
export class TicketHeartbeat {
  @IsUUID()
  ticketId!: string;

  @IsUUID()
  requesterId!: string;
}

/**
 * `path`: the upstream's current path for the ticket's stream (source first, the upstream last), so the
 * downstream's own path follows when the upstream re-parents.
 */
export type TicketHeartbeatReply = { ok: true; path?: string[] } | { unknown: true };

/** The upstream ended a ticket (leaving, revoked, expired): the downstream should re-parent now. */
export class TicketEnded {
  @IsUUID()
  ticketId!: string;

  @IsUUID()
  nodeId!: string;

  @Matches(STREAM_ID)
  streamId!: string;

  @IsString() @MaxLength(200)
  reason!: string;
}
