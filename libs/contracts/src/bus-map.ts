import { AgentPatterns, DirectoryPatterns, RelayPatterns } from './patterns';
import { ClosedReply, EmptyPayload, OkReply, RemovedReply } from './common';
import {
  ListNodesRequest,
  ListSupernodesRequest,
  NodeHeartbeat,
  NodeInfo,
  NodeRef,
  PromoteSupernode,
  RegisterNodeReply,
  RegisterNodeRequest,
} from './nodes';
import {
  AnnounceStream,
  CarrierInfo,
  CarryingStream,
  CreateStreamRequest,
  EndStreamRequest,
  ListStreamsRequest,
  StreamInfo,
  StreamPage,
  StreamRef,
} from './streams';
import {
  TicketCancel,
  TicketConfirm,
  TicketConfirmReply,
  TicketEnded,
  TicketHeartbeat,
  TicketHeartbeatReply,
  TicketReply,
  TicketRequest,
} from './tickets';
import {
  MembershipHeartbeat,
  MembershipHeartbeatReply,
  MembershipJoin,
  MembershipJoinReply,
  MembershipLeave,
  MembershipRehome,
  SupernodeCarriersRequest,
} from './membership';
import {
  AdmitForward,
  AuthorizePublish,
  CloseUpstream,
  ForwardClosed,
  OpenUpstream,
  RelayReady,
  RelayStats,
  RelayStatsReport,
  RelayStreamEvent,
  RevokeForward,
  SetUploadLimit,
  UpstreamLost,
  SetPlayerBudget,
  SetDirectoryLink,
} from './relay';

/**
 * Every Redis pattern of Astral bound to its [payload, reply]; the reply of an event is `void`.
 *
 * The compiler holds both ends to it: `request`/`emit` and the typed clients of @astral/transport take
 * `PayloadOf<P>` and give `ReplyOf<P>`, and a handler declared with `@OnRequest(P)`/`@OnEvent(P)` must
 * take exactly `PayloadOf<P>` and return `ReplyOf<P>` (or a promise of it). A pattern missing here
 * cannot be sent or handled. The type-level spec is libs/transport/src/bus-handlers.spec.ts.
 */
export interface BusMap {
  // directory: shared channels
  [DirectoryPatterns.RegisterNode]: [RegisterNodeRequest, RegisterNodeReply];
  [DirectoryPatterns.NodeHeartbeat]: [NodeHeartbeat, void];
  [DirectoryPatterns.UnregisterNode]: [NodeRef, RemovedReply];
  [DirectoryPatterns.ListNodes]: [ListNodesRequest, NodeInfo[]];
  [DirectoryPatterns.PromoteSupernode]: [PromoteSupernode, NodeInfo];
  [DirectoryPatterns.DemoteSupernode]: [NodeRef, NodeInfo];
  [DirectoryPatterns.ListSupernodes]: [ListSupernodesRequest, NodeInfo[]];
  [DirectoryPatterns.CreateStream]: [CreateStreamRequest, StreamInfo];
  [DirectoryPatterns.AnnounceStream]: [AnnounceStream, StreamInfo];
  [DirectoryPatterns.EndStream]: [EndStreamRequest, StreamInfo];
  [DirectoryPatterns.GetStream]: [StreamRef, StreamInfo];
  [DirectoryPatterns.ListStreams]: [ListStreamsRequest, StreamPage];
  [DirectoryPatterns.ListCarriers]: [StreamRef, CarrierInfo[]];
  [DirectoryPatterns.Carrying]: [CarryingStream, void];

  // agent: from other agents
  [AgentPatterns.TicketRequest]: [TicketRequest, TicketReply];
  [AgentPatterns.TicketConfirm]: [TicketConfirm, TicketConfirmReply];
  [AgentPatterns.TicketCancel]: [TicketCancel, void];
  [AgentPatterns.TicketHeartbeat]: [TicketHeartbeat, TicketHeartbeatReply];
  [AgentPatterns.TicketEnded]: [TicketEnded, void];
  [AgentPatterns.MembershipJoin]: [MembershipJoin, MembershipJoinReply];
  [AgentPatterns.MembershipHeartbeat]: [MembershipHeartbeat, MembershipHeartbeatReply];
  [AgentPatterns.MembershipLeave]: [MembershipLeave, void];
  [AgentPatterns.MembershipRehome]: [MembershipRehome, void];
  [AgentPatterns.SupernodeCarriers]: [SupernodeCarriersRequest, CarrierInfo[]];
  // agent: from its own relay
  [AgentPatterns.RelayStreamLive]: [RelayStreamEvent, void];
  [AgentPatterns.RelayStreamEnded]: [RelayStreamEvent, void];
  [AgentPatterns.RelayUpstreamLost]: [UpstreamLost, void];
  [AgentPatterns.RelayForwardClosed]: [ForwardClosed, void];
  [AgentPatterns.RelayStats]: [RelayStatsReport, void];
  [AgentPatterns.RelayReady]: [RelayReady, void];

  // relay: from its own agent
  [RelayPatterns.AuthorizePublish]: [AuthorizePublish, OkReply];
  [RelayPatterns.AdmitForward]: [AdmitForward, OkReply];
  [RelayPatterns.RevokeForward]: [RevokeForward, ClosedReply];
  [RelayPatterns.OpenUpstream]: [OpenUpstream, OkReply];
  [RelayPatterns.CloseUpstream]: [CloseUpstream, ClosedReply];
  [RelayPatterns.SetUploadLimit]: [SetUploadLimit, OkReply];
  [RelayPatterns.GetStats]: [EmptyPayload, RelayStats];
  [RelayPatterns.SetPlayerBudget]: [SetPlayerBudget, OkReply];
  [RelayPatterns.SetDirectoryLink]: [SetDirectoryLink, OkReply];
}

export type BusPattern = keyof BusMap;
/** What a sender passes and a handler takes for pattern P (immich's `ArgOf<>`). */
export type PayloadOf<P extends BusPattern> = BusMap[P][0];
/** What a request's handler returns and its sender receives for pattern P; `void` for an event. */
export type ReplyOf<P extends BusPattern> = BusMap[P][1];

/** Patterns answered with a reply (Nest's `send` / `@MessagePattern`). */
export type RequestPattern = { [P in BusPattern]: [ReplyOf<P>] extends [void] ? never : P }[BusPattern];
/** Patterns nobody answers (Nest's `emit` / `@EventPattern`). */
export type EventPattern = { [P in BusPattern]: [ReplyOf<P>] extends [void] ? P : never }[BusPattern];

/**
 * Every pattern object's values are in the map, and the map holds nothing else: a pattern added to
 * patterns.ts without a line above (or the reverse) fails to compile here.
 */
type AllPatterns =
  | (typeof DirectoryPatterns)[keyof typeof DirectoryPatterns]
  | (typeof AgentPatterns)[keyof typeof AgentPatterns]
  | (typeof RelayPatterns)[keyof typeof RelayPatterns];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const BUS_MAP_IS_COMPLETE: Same<AllPatterns, BusPattern> = true;
