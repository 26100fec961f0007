import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  Equals,
  IsArray,
  IsBoolean,
  IsDefined,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IsHost, IsPort, Refused, UnknownToPeer } from './common';
import { STREAM_ID_PATTERN } from './streams';

/** A viewer's agent asks a candidate for a ticket: a promise to forward one stream to it. */
export class TicketRequest {
  @Matches(STREAM_ID_PATTERN)
  streamId!: string;

  @IsUUID()
  requesterId!: string;

  /** Nodes the requester will not take the stream from (its descendants and lost upstreams). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  exclude?: string[];

  /** Whether the requester can forward the stream itself (its upload limit is not 0). */
  @IsOptional()
  @IsBoolean()
  canForward?: boolean;

  /** The requester has waited long: it may take a forwarder's last free slots even if it cannot forward. */
  @IsOptional()
  @IsBoolean()
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

  @IsString()
  @MaxLength(200)
  reason!: string;
}

/** An offer from a candidate upstream. Peers' offers are validated on receipt (PeerClient). */
export class TicketOffer {
  @IsUUID()
  ticketId!: string;

  @Matches(STREAM_ID_PATTERN)
  streamId!: string;

  /** The offering node. */
  @IsUUID()
  nodeId!: string;

  /** Distance from the source: the source offers 1, its children 2, ... */
  @IsInt()
  @Min(1)
  @Max(1000)
  hops!: number;

  /** The offering node's upstream path, source first, itself last: a requester on it would make a loop. */
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  path!: string[];

  /** Spare upload after this forward, bits per second (Infinity is sent as null). */
  @ValidateIf((o: TicketOffer) => o.headroomBps !== null)
  @IsNumber()
  headroomBps!: number | null;

  /** The offer lapses if not confirmed by then (epoch ms). */
  @IsInt()
  @Min(0)
  expiresAt!: number;

  @IsHost()
  host!: string;

  @IsPort()
  forwardPort!: number;

  /**
   * The stream's bit rate as the offerer measures it (bits/s). The requester admits its own downstream
   * requests with it until its relay has measured the stream itself (about a second after the pull).
   */
  @IsOptional()
  @IsNumber()
  @Min(0)
  bitrateBps?: number;
}

export class TicketOffered {
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => TicketOffer)
  offer!: TicketOffer;
}

export type TicketReply = TicketOffered | Refused;

/**
 * A ticket token as it travels (docs/security/tickets.md): base64url(JSON claims) '.' base64url(Ed25519
 * signature of the offering node). Checked in full (signature, expiry, downstream) by @astral/identity.
 */
export const TICKET_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,1900}\.[A-Za-z0-9_-]{86}$/;

/**
 * The upstream's signed ticket token. No address: the requester pulls from the host and forward port
 * the directory (or its seed list) gives for the node it asked, never from one a peer names.
 */
export class TicketConfirmReply {
  @IsUUID()
  ticketId!: string;

  @MaxLength(2048)
  @Matches(TICKET_TOKEN_PATTERN, { message: 'token must be a signed ticket token (claims.signature)' })
  token!: string;
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
export class TicketHeartbeatOk {
  @Equals(true)
  ok!: true;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  path?: string[];

  /** A fresh token for the ticket, sent once the current one is past half its life. */
  @IsOptional()
  @MaxLength(2048)
  @Matches(TICKET_TOKEN_PATTERN, { message: 'token must be a signed ticket token (claims.signature)' })
  token?: string;
}

export type TicketHeartbeatReply = TicketHeartbeatOk | UnknownToPeer;

/** The upstream ended a ticket (leaving, revoked, expired): the downstream should re-parent now. */
export class TicketEnded {
  @IsUUID()
  ticketId!: string;

  @IsUUID()
  nodeId!: string;

  @Matches(STREAM_ID_PATTERN)
  streamId!: string;

  @IsString()
  @MaxLength(200)
  reason!: string;
}
