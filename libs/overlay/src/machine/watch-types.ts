import type {
  CarriedStream,
  StreamInfo,
  TicketConfirmReply,
  TicketEnded,
  TicketOffer,
  TicketReply,
  UpstreamLost,
} from '@astral/contracts';
import type { CallId, InboundId } from './effects';
import type { ConfirmExpectations, PeerListing } from './watch-rules';

/*
 * The watching machine's vocabulary (docs/OVERLAY.md "Watching"): its configuration, its inputs, and the
 * state it keeps per watched stream. Everything here is plain data, so a simulator can hold 100,000
 * machines in one process and hand them inputs it built itself.
 */

/** What a watching machine is built with; nothing else reaches it but its inputs. */
export interface WatchConfig {
  /** This node's id. */
  nodeId: string;
  /** This node's Ed25519 public key: a ticket token must name it. */
  publicKey: string;
  /** The operator's static seeds: their addresses count as listings (they carry no key). */
  seeds: readonly { nodeId: string; host: string; forwardPort: number }[];
  /** Ticket heartbeat interval (NodeConfig.peerHeartbeatMs). */
  heartbeatMs: number;
  /** Warm standby (NodeConfig.standby): off, for streams this node forwards, or for every watched stream. */
  standby: 'off' | 'forwards' | 'players';
  standbyMode: 'receiving' | 'idle';
  /**
   * Checks a confirmation (default: confirmRefusal, which verifies the token's signature). A simulator
   * that signs no tokens passes its own.
   */
  checkConfirm?: (reply: TicketConfirmReply, e: ConfirmExpectations) => string | null;
}

/** Facts about the node the driver knows and the machine does not; any subset, whenever they change. */
export interface WatchFacts {
  /** The node's upload limit is not 0 (it can forward what it receives). */
  canForward: boolean;
  /** The supernode to ask for carriers: its own, or this node's id while it is a supernode; null: none. */
  supernodeId: string | null;
  /** Missed heartbeats count against peers (false while Redis is away or just back). */
  peersAccountable: boolean;
  /** Streams for which this node has confirmed outgoing tickets (standby 'forwards'). */
  forwarding: readonly string[];
  /** The node is leaving: it asks for no new tickets. */
  leaving: boolean;
}

/** The inputs of the watching machine besides replies, RTTs and timers (CommonInput). */
export type WatchInput =
  | { type: 'facts'; facts: Partial<WatchFacts> }
  /** The local API (or the seeder) wants the stream; answered with a WatchAnswer or a refusal. */
  | { type: 'watch'; inbound: InboundId; streamId: string; seed: boolean }
  /** Stop watching; answered with true, or false when the node did not watch the stream. */
  | { type: 'stop'; inbound: InboundId; streamId: string }
  /** The upstream ended a ticket this node holds (AgentPatterns.TicketEnded). */
  | { type: 'ticket-ended'; msg: TicketEnded }
  /** The relay lost a pull (AgentPatterns.RelayUpstreamLost). */
  | { type: 'upstream-lost'; msg: UpstreamLost }
  /** The relay ended the pulled stream itself (AgentPatterns.RelayStreamEnded, origin upstream). */
  | { type: 'relay-stream-ended'; streamId: string }
  /** The relay (re)started and lost its pulls: open them again. */
  | { type: 'relay-ready' }
  /** Graceful leave: give back every ticket, ask for no more. */
  | { type: 'leave' };

/** What a watch call is answered with (the driver adds the local play URLs). */
export interface WatchAnswer {
  streamId: string;
  seed: boolean;
  upstreamNodeId: string | null;
  hops: number;
}

/** A confirmed ticket this node holds, with the pull opened on it. */
export interface HeldTicket {
  upstreamNodeId: string;
  ticketId: string;
  /** This node's path through it: source first, this node last. */
  path: string[];
  hops: number;
  forwardUrl: string;
  since: number;
  bitrateBps?: number;
  /** Heartbeats unanswered in a row. */
  misses: number;
}

export type Purpose = 'primary' | 'standby';

/** One round of ticket negotiation: carriers, offers, listings, RTTs, confirm, open. */
export interface Round {
  id: number;
  purpose: Purpose;
  exclude: Set<string>;
  step: 'carriers' | 'offers' | 'listings' | 'rtt' | 'confirm' | 'open';
  carriers: { nodeId: string; hops: number }[];
  pendingCarrierCalls: number;
  asked: string[];
  replies: Map<string, PromiseSettledResult<TicketReply>>;
  /** Offers received and not yet confirmed, cancelled or dropped (cancelled if the round is abandoned). */
  offers: TicketOffer[];
  reasons: string[];
  freshListings: boolean;
  believed: { offer: TicketOffer; listing: PeerListing }[];
  rtts: Map<string, number>;
  pendingRtts: number;
  chosen?: { offer: TicketOffer; listing: PeerListing };
  token?: string;
}

/** A lost primary being replaced. */
export interface Failover {
  lostNodeId: string | null;
  lostTicketId: string | null;
  reason: string;
  since: number;
  /** Cancel the lost ticket once switched (not when the upstream ended it itself). */
  cancelOld: boolean;
}

/** A stream this node watches (or seeds). */
export interface Watched {
  streamId: string;
  seed: boolean;
  since: number;
  stream: StreamInfo | null;
  primary: HeldTicket | null;
  standby: HeldTicket | null;
  round: Round | null;
  failover: Failover | null;
  /** Rounds in a row that failed, per purpose (the backoff). */
  attempts: Record<Purpose, number>;
  /** When the current effort for each purpose began (the backoff's cap). */
  tryingSince: Record<Purpose, number>;
  /** A retry timer is armed for this purpose. */
  retrying: Record<Purpose, boolean>;
  waiters: InboundId[];
  lastReason: string;
}

/** What each of the machine's calls was for. */
export type WatchCall =
  /** At a new watch, or (`failover`) to learn whether a stream whose upstream was lost still is live. */
  | { kind: 'get-stream'; streamId: string; failover?: boolean }
  | { kind: 'carriers'; streamId: string; round: number; supernode?: boolean }
  | { kind: 'offer'; streamId: string; round: number; nodeId: string }
  | { kind: 'listings'; streamId: string; round: number }
  | { kind: 'rtt'; streamId: string; round: number; nodeId: string }
  | { kind: 'confirm'; streamId: string; round: number }
  | { kind: 'open'; streamId: string; round: number }
  | { kind: 'heartbeat'; streamId: string; purpose: Purpose; ticketId: string }
  | { kind: 'fire-and-forget'; streamId: string };

/** A stream the node is still trying to get (the local API shows it as acquiring). */
export interface AcquiringStream {
  streamId: string;
  seed: boolean;
  since: number;
  lastReason: string;
}

/** The view the driver mirrors into the agent's CarriedStreams after every input. */
export type WatchedStream = CarriedStream;

export type { CallId };
