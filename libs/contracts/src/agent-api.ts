import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import type { NodeInfo } from './nodes';
import type { RelayStats } from './relay';

/**
 * The node agent's local HTTP API (the *.http.controller.ts files of apps/node-agent) and its WebSocket
 * of events: every request body, reply and event, as JSON on the wire. The agent's controllers declare
 * their return types from here; the CLI (`astral node …`), bench/ and test/ read the same types.
 */

/** Where the agent serves its WebSocket of events, on the API port. */
export const AGENT_EVENTS_PATH = '/api/events';

/**
 * The header a page of the directory's origin sends to control a node from the browser instead of the
 * API token (`X-Astral-Control: 1`). A custom header makes the browser ask first (a CORS preflight),
 * which the agent answers only for the directory's origin: no other page can send it.
 */
export const AGENT_CONTROL_HEADER = 'X-Astral-Control';

/** The only value of AGENT_CONTROL_HEADER the agent accepts. */
export const AGENT_CONTROL_VALUE = '1';

/** A node's place in the overlay: joining until a supernode takes it or it promotes itself. */
export type NodeRole = 'joining' | 'member' | 'supernode';

/** How a node got a stream: published to its own relay, or pulled from an upstream node. */
export type StreamOrigin = 'publish' | 'upstream';

/** Where the node's own relay plays a stream. */
export interface PlayUrls {
  rtmp: string;
  httpFlv: string;
  /** Plain HLS and Low-Latency HLS playlists (libs/contracts hls.ts). */
  hls: string;
  llHls: string;
}

/** A stream the node carries, and where it comes from. */
export interface CarriedStream {
  streamId: string;
  origin: StreamOrigin;
  /** Upstream path, source first, this node last. */
  path: string[];
  /** 0 at the source. */
  hops: number;
  upstreamNodeId: string | null;
  /** The ticket this node holds from its upstream. */
  ticketId: string | null;
  /** Where the relay pulls from (the confirmed ticket's forward URL): replayed to a relay that restarted. */
  forwardUrl?: string;
  /** Epoch milliseconds. */
  since: number;
  /** Volunteered to seed: kept without a local player, to forward to others. */
  seed: boolean;
  /** The bit rate the upstream measured when it offered the ticket: admission uses it until the relay has its own. */
  upstreamBitrateBps?: number;
  /**
   * The warm standby (NodeConfig.standby): a second confirmed ticket, its pull kept alongside the
   * primary's on a path that shares no node with it below the source where the tree allows.
   */
  standby?: StandbyTicket;
}

/** A standby ticket as the agent shows it (its forward URL, with the token, is kept private). */
export interface StandbyTicket {
  upstreamNodeId: string;
  ticketId: string;
  /** Source first, this node last. */
  path: string[];
  hops: number;
  since: number;
}

/**
 * A carried stream as the API shows it: without `forwardUrl`, whose `?ticket=` token is the upstream's
 * secret for this node's relay and no business of any API caller.
 */
export type ShownStream = Omit<CarriedStream, 'forwardUrl'>;

/** GET /api/streams: each carried stream with its local play URLs. */
export type ListedStream = ShownStream & { play: PlayUrls };

/** GET /api/status; 503 until the node is registered with the directory. */
export interface NodeStatus {
  nodeId: string;
  host: string;
  ports: { rtmp: number; http: number; forward: number; api: number };
  role: NodeRole;
  supernodeId: string | null;
  /** How many members, while a supernode; null otherwise. */
  members: number | null;
  /** Bits per second; null is unlimited. */
  uploadLimitBps: number | null;
  /** Confirmed outgoing tickets. */
  forwards: number;
  streams: ShownStream[];
  /** Streams watched without a ticket yet: the node keeps trying until they are stopped. */
  acquiring?: { streamId: string; seed: boolean; since: number; lastReason: string }[];
  /** The relay's latest report; null until it sent one. */
  relay: RelayStats | null;
}

/** POST /api/streams. */
export class PublishStreamRequest {
  /** @example 'My show' */
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  title!: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

/** POST /api/streams: a stream sourced at this node, with its secret key (shown in this reply only). */
export interface PublishReply {
  streamId: string;
  key: string;
  rtmpUrl: string;
  publishUrl: string;
  obs: { server: string; streamKey: string };
  play: PlayUrls;
}

/** POST /api/streams/:streamId/watch and /seed. */
export interface WatchReply {
  streamId: string;
  seed: boolean;
  upstreamNodeId: string | null;
  hops: number;
  play: PlayUrls;
}

/** DELETE /api/streams/:streamId/watch. */
export interface StopWatchReply {
  stopped: true;
}

/** A ticket this node gave: a downstream node may pull the stream from this node's relay. */
export interface OutgoingTicket {
  ticketId: string;
  streamId: string;
  requesterId: string;
  state: 'offered' | 'confirmed';
  bitrateBps: number;
  /** Epoch milliseconds when an offer lapses; null once confirmed. */
  expiresAt: number | null;
  createdAt: number;
  /** The forward's secret; always null in API replies. */
  token: string | null;
  lastHeartbeat: number;
}

/** A ticket this node holds from its upstream, for a stream it pulls. */
export type IncomingTicket = Pick<CarriedStream, 'ticketId' | 'streamId' | 'upstreamNodeId' | 'hops'>;

/** GET /api/tickets. */
export interface TicketsReply {
  outgoing: OutgoingTicket[];
  incoming: IncomingTicket[];
}

/** DELETE /api/tickets/:ticketId. */
export interface RevokeTicketReply {
  revoked: true;
}

/** GET /api/settings, and the reply to PATCH /api/settings. */
export interface NodeSettings {
  /** Bits per second; null is unlimited, 0 never forwards. */
  uploadLimitBps: number | null;
  /** Members accepted while a supernode. */
  maxChildren: number;
}

/** PATCH /api/settings. */
export class UpdateSettingsRequest {
  /**
   * Upload limit: 3mbit, 2500k, 800000, 0 (never forward) or unlimited
   * @example '3mbit'
   */
  @IsOptional()
  @IsString()
  @Matches(/^(unlimited|\d+(\.\d+)?\s*(k|m|g)?(bit|bps)?)$/i, {
    message: 'uploadLimit must be like 3mbit, 2500k, 0 or unlimited',
  })
  uploadLimit?: string;

  /**
   * Members accepted when this node is a supernode
   * @example 100
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  maxChildren?: number;
}

/** GET /api/nodes: this node's place in the overlay, and the directory's nodes. */
export interface NodesReply {
  role: NodeRole;
  supernodeId: string | null;
  members: string[];
  directory: NodeInfo[];
  /** Why `directory` is empty: the directory did not answer (the membership part is this node's own). */
  directoryError?: string;
}

/** POST /api/leave (202): the node leaves the network gracefully, then stops. */
export interface LeaveReply {
  leaving: true;
}

/** An event as the agent raises it. */
export type AgentEventBody =
  | { type: 'node-joined'; nodeId: string; role: 'member' | 'supernode' }
  | { type: 'node-left'; nodeId: string; reason: string }
  | { type: 'supernode-changed'; supernodeId: string | null; role: 'member' | 'supernode' }
  | {
      type: 'ticket-created';
      ticketId: string;
      streamId: string;
      direction: 'outgoing' | 'incoming';
      peerId: string;
    }
  | {
      type: 'ticket-ended';
      ticketId: string;
      streamId: string;
      direction: 'outgoing' | 'incoming';
      reason: string;
    }
  | { type: 'upstream-switched'; streamId: string; from: string | null; to: string; recoveryMs: number }
  | { type: 'stream-live'; streamId: string; origin: StreamOrigin }
  | { type: 'stream-ended'; streamId: string };

/** One message on the events WebSocket: the event and when it was raised (ISO 8601). */
export type AgentEvent = AgentEventBody & { at: string };
