import type {
  AstralErrorCode,
  TicketCancel,
  TicketConfirm,
  TicketHeartbeat,
  TicketRequest,
} from '@astral/contracts';
import type { InboundId, PendingCalls } from './effects';

/** How long an offer holds its reservation without a confirm. */
export const OFFER_TTL_MS = 5000;
/** Timeout of the commands the ticket server sends its own relay (loopback through Redis: generous). */
export const RELAY_COMMAND_TIMEOUT_MS = 5000;
/** A confirmed ticket whose downstream has not beaten for this many heartbeat intervals ends. */
export const MISSED_HEARTBEATS = 3;

/** What a ticket token says (libs/identity `TicketClaims` without its version). */
export interface ServedTokenClaims {
  ticketId: string;
  streamId: string;
  upstreamNodeId: string;
  downstreamNodeId: string;
  downstreamKey: string;
  expiresAt: number;
}

/** Everything the ticket server needs, as plain data and two pure functions. */
export interface TicketServerConfig {
  nodeId: string;
  /** The address offers name (the requester checks it against the directory's listing). */
  host: string;
  forwardPort: number;
  /** The upload limit at start, bits per second; null is unlimited. */
  uploadLimitBps: number | null;
  /** The downstream's heartbeat interval: MISSED_HEARTBEATS of them without one end a ticket. */
  peerHeartbeatMs: number;
  /** Life of a signed ticket token; a heartbeat past half of it brings a fresh one. */
  ticketTokenTtlMs: number;
  offerTtlMs?: number;
  relayTimeoutMs?: number;
  /** Signs a ticket token with this node's key (the agent: Ed25519; the simulator: anything). */
  sign: (claims: ServedTokenClaims) => string;
  /** A fresh ticket id (the agent: a random UUID; the simulator: a counter). */
  newTicketId: () => string;
}

/** The driver's lookup of a requester in the directory: its key, or why it gets no ticket (403). */
export type RequesterKey = { key: string } | { refused: string; listed: boolean };

/** What this node carries of the requested stream (its place in the tree). */
export interface CarriedFacts {
  hops: number;
  /** Source first, this node last. */
  path: string[];
  /** The bit rate the upstream measured (from its offer), until the own relay has measured the stream. */
  upstreamBitrateBps?: number;
}

/** The relay's latest measurements: bit rate per stream, and the upload its remote players hold. */
export interface RelayRates {
  streams: Readonly<Record<string, number>>;
  playersBps: number;
}

/** The inputs of the serving side, as the driver resolved them (plain data). */
export type TicketServerInput =
  | {
      type: 'request';
      inbound: InboundId;
      req: TicketRequest;
      /** null: this node does not carry the stream. */
      carried: CarriedFacts | null;
      requester: RequesterKey;
      rates: RelayRates;
    }
  | { type: 'confirm'; inbound: InboundId; msg: TicketConfirm; carries: boolean }
  | { type: 'cancel'; msg: TicketCancel }
  /** `path`: this node's current path for the ticket's stream (undefined if it no longer carries it). */
  | { type: 'heartbeat'; inbound: InboundId; msg: TicketHeartbeat; path: string[] | undefined }
  /** Every heartbeat interval; `accountable`: peers' heartbeats could cross (Redis up long enough). */
  | { type: 'expiry-tick'; accountable: boolean }
  /** Answered (undefined) once the relay has the new limit; tickets that no longer fit end first. */
  | { type: 'set-limit'; inbound?: InboundId; limitBps: number | null; rates: RelayRates }
  /** Answered with whether the ticket existed, once its forward is closed. */
  | { type: 'end'; inbound?: InboundId; ticketId: string; reason: string; notify?: boolean }
  | { type: 'end-stream'; inbound?: InboundId; streamId: string; reason: string }
  | { type: 'end-all'; inbound?: InboundId; reason: string }
  /** Graceful leave: answered once every downstream cancelled or `timeoutMs` passed, and the rest ended. */
  | { type: 'drain'; inbound?: InboundId; reason: string; timeoutMs: number }
  /** The relay closed a forward by itself (downstream gone, or lagging). */
  | { type: 'forward-closed'; ticketId: string; reason: string }
  /** The relay restarted empty: the limit and the confirmed admissions are sent again. */
  | { type: 'relay-ready'; inbound?: InboundId };

/** A ticket this node serves. */
export interface ServedTicket {
  ticketId: string;
  streamId: string;
  requesterId: string;
  /** The requester's key as the directory lists it: its tokens name it. */
  requesterKey: string;
  /** `confirming`: the relay is admitting the forward. */
  state: 'offered' | 'confirming' | 'confirmed';
  /** The rate the ticket was admitted at. */
  bitrateBps: number;
  createdAt: number;
  /** When the offer lapses; null once confirmed. */
  expiresAt: number | null;
  lastHeartbeat: number;
  /** Expiry of the last token signed (0: none yet). */
  tokenExpiresAt: number;
}

/** Answers owed once a set of relay commands settles. */
export interface PendingOp {
  inbounds: InboundId[];
  value: unknown;
  waiting: number;
  failure: { code: AstralErrorCode; message: string } | null;
}

export type CallContext =
  | { kind: 'admit'; ticketId: string }
  | { kind: 'revoke'; ticketId: string; op: number | null }
  | { kind: 'relay'; op: number };

/** The serving side's whole state; the seams (offers, endings) work on it. */
export interface ServerState {
  readonly config: Required<TicketServerConfig>;
  /** In creation order (a Map keeps insertion order): newest last. */
  readonly tickets: Map<string, ServedTicket>;
  limitBps: number | null;
  readonly calls: PendingCalls<CallContext>;
  readonly ops: Map<number, PendingOp>;
  nextOp: number;
  /** Confirms waiting for the relay's admission, by ticket. */
  readonly confirmWaiters: Map<string, InboundId[]>;
  /** A graceful leave in progress: the confirmed tickets told to re-parent. */
  drain: { op: number; reason: string; waiting: Set<string> } | null;
  /** Set by drain: no more offers. */
  leaving: boolean;
  /** Bumped on every change of the tickets or the limit (the driver's facts follow). */
  revision: number;
}

export const OFFER_TIMER = 'offer:';
export const DRAIN_TIMER = 'drain';

export function offerTimer(ticketId: string): string {
  return OFFER_TIMER + ticketId;
}

/** Whether a ticket's token is past half its life, so its heartbeat should bring a fresh one. */
export function tokenNeedsRefresh(tokenExpiresAt: number, ttlMs: number, now: number): boolean {
  return tokenExpiresAt - now < ttlMs / 2;
}
