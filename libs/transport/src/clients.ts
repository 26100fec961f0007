import { ClientProxy } from '@nestjs/microservices';
import {
  AgentPatterns,
  DirectoryPatterns,
  RelayPatterns,
  addressed,
  ClosedReply,
  OkReply,
  RemovedReply,
  ListNodesRequest,
  ListSupernodesRequest,
  NodeHeartbeat,
  PromoteSupernode,
  NodeInfo,
  NodeRef,
  RegisterNodeReply,
  RegisterNodeRequest,
  AnnounceStream,
  CarrierInfo,
  CarryingStream,
  CreateStreamRequest,
  ListStreamsRequest,
  StreamInfo,
  StreamPage,
  StreamRef,
  EndStreamRequest,
  TicketCancel,
  TicketConfirm,
  TicketConfirmReply,
  TicketEnded,
  TicketHeartbeat,
  TicketHeartbeatReply,
  TicketReply,
  TicketRequest,
  MembershipHeartbeat,
  MembershipHeartbeatReply,
  MembershipJoin,
  MembershipJoinReply,
  MembershipLeave,
  MembershipRehome,
  SupernodeCarriersRequest,
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
} from '@astral/contracts';
import { emit, request } from './send';

/*
 * The typed clients: one method per pattern, each checked against BusMap by `request`/`emit` (a method
 * whose parameter or return type is not the pattern's payload or reply does not compile).
 */

/** Typed calls to the directory. */
export class DirectoryClient {
  constructor(
    private readonly client: ClientProxy,
    private readonly timeoutMs?: number,
  ) {}

  register(req: RegisterNodeRequest): Promise<RegisterNodeReply> {
    return request(this.client, DirectoryPatterns.RegisterNode, req, this.timeoutMs);
  }
  heartbeat(hb: NodeHeartbeat): Promise<void> {
    return emit(this.client, DirectoryPatterns.NodeHeartbeat, hb);
  }
  unregister(ref: NodeRef): Promise<RemovedReply> {
    return request(this.client, DirectoryPatterns.UnregisterNode, ref, this.timeoutMs);
  }
  listNodes(req: ListNodesRequest = {}): Promise<NodeInfo[]> {
    return request(this.client, DirectoryPatterns.ListNodes, req, this.timeoutMs);
  }
  promoteSupernode(req: PromoteSupernode): Promise<NodeInfo> {
    return request(this.client, DirectoryPatterns.PromoteSupernode, req, this.timeoutMs);
  }
  demoteSupernode(ref: NodeRef): Promise<NodeInfo> {
    return request(this.client, DirectoryPatterns.DemoteSupernode, ref, this.timeoutMs);
  }
  listSupernodes(req: ListSupernodesRequest = {}): Promise<NodeInfo[]> {
    return request(this.client, DirectoryPatterns.ListSupernodes, req, this.timeoutMs);
  }
  createStream(req: CreateStreamRequest): Promise<StreamInfo> {
    return request(this.client, DirectoryPatterns.CreateStream, req, this.timeoutMs);
  }
  announceStream(req: AnnounceStream): Promise<StreamInfo> {
    return request(this.client, DirectoryPatterns.AnnounceStream, req, this.timeoutMs);
  }
  endStream(req: EndStreamRequest): Promise<StreamInfo> {
    return request(this.client, DirectoryPatterns.EndStream, req, this.timeoutMs);
  }
  getStream(ref: StreamRef): Promise<StreamInfo> {
    return request(this.client, DirectoryPatterns.GetStream, ref, this.timeoutMs);
  }
  listStreams(req: ListStreamsRequest = {}): Promise<StreamPage> {
    return request(this.client, DirectoryPatterns.ListStreams, req, this.timeoutMs);
  }
  listCarriers(ref: StreamRef): Promise<CarrierInfo[]> {
    return request(this.client, DirectoryPatterns.ListCarriers, ref, this.timeoutMs);
  }
  carrying(msg: CarryingStream): Promise<void> {
    return emit(this.client, DirectoryPatterns.Carrying, msg);
  }
}

/** Typed calls from one agent to another agent, addressed by node id. */
export class PeerClient {
  constructor(
    private readonly client: ClientProxy,
    private readonly timeoutMs = 1000,
  ) {}

  requestTicket(nodeId: string, req: TicketRequest): Promise<TicketReply> {
    return request(this.client, addressed(AgentPatterns.TicketRequest, nodeId), req, this.timeoutMs);
  }
  confirmTicket(nodeId: string, req: TicketConfirm): Promise<TicketConfirmReply> {
    return request(this.client, addressed(AgentPatterns.TicketConfirm, nodeId), req, this.timeoutMs);
  }
  cancelTicket(nodeId: string, req: TicketCancel): Promise<void> {
    return emit(this.client, addressed(AgentPatterns.TicketCancel, nodeId), req);
  }
  ticketHeartbeat(nodeId: string, req: TicketHeartbeat): Promise<TicketHeartbeatReply> {
    return request(this.client, addressed(AgentPatterns.TicketHeartbeat, nodeId), req, this.timeoutMs);
  }
  ticketEnded(nodeId: string, msg: TicketEnded): Promise<void> {
    return emit(this.client, addressed(AgentPatterns.TicketEnded, nodeId), msg);
  }
  join(supernodeId: string, req: MembershipJoin): Promise<MembershipJoinReply> {
    return request(this.client, addressed(AgentPatterns.MembershipJoin, supernodeId), req, this.timeoutMs);
  }
  membershipHeartbeat(supernodeId: string, req: MembershipHeartbeat): Promise<MembershipHeartbeatReply> {
    return request(
      this.client,
      addressed(AgentPatterns.MembershipHeartbeat, supernodeId),
      req,
      this.timeoutMs,
    );
  }
  leaveSupernode(supernodeId: string, msg: MembershipLeave): Promise<void> {
    return emit(this.client, addressed(AgentPatterns.MembershipLeave, supernodeId), msg);
  }
  rehome(nodeId: string, msg: MembershipRehome): Promise<void> {
    return emit(this.client, addressed(AgentPatterns.MembershipRehome, nodeId), msg);
  }
  supernodeCarriers(supernodeId: string, req: SupernodeCarriersRequest): Promise<CarrierInfo[]> {
    return request(this.client, addressed(AgentPatterns.SupernodeCarriers, supernodeId), req, this.timeoutMs);
  }
}

/** Typed calls from an agent to its own relay. */
export class RelayControlClient {
  constructor(
    private readonly client: ClientProxy,
    private readonly nodeId: string,
    private readonly timeoutMs = 2000,
  ) {}

  authorizePublish(req: AuthorizePublish): Promise<OkReply> {
    return request(this.client, addressed(RelayPatterns.AuthorizePublish, this.nodeId), req, this.timeoutMs);
  }
  admitForward(req: AdmitForward): Promise<OkReply> {
    return request(this.client, addressed(RelayPatterns.AdmitForward, this.nodeId), req, this.timeoutMs);
  }
  revokeForward(req: RevokeForward): Promise<ClosedReply> {
    return request(this.client, addressed(RelayPatterns.RevokeForward, this.nodeId), req, this.timeoutMs);
  }
  openUpstream(req: OpenUpstream): Promise<OkReply> {
    return request(this.client, addressed(RelayPatterns.OpenUpstream, this.nodeId), req, this.timeoutMs);
  }
  closeUpstream(req: CloseUpstream): Promise<ClosedReply> {
    return request(this.client, addressed(RelayPatterns.CloseUpstream, this.nodeId), req, this.timeoutMs);
  }
  setUploadLimit(req: SetUploadLimit): Promise<OkReply> {
    return request(this.client, addressed(RelayPatterns.SetUploadLimit, this.nodeId), req, this.timeoutMs);
  }
  stats(): Promise<RelayStats> {
    return request(this.client, addressed(RelayPatterns.GetStats, this.nodeId), {}, this.timeoutMs);
  }
}

/** Events from a relay to its own agent. */
export class AgentNotifier {
  constructor(
    private readonly client: ClientProxy,
    private readonly nodeId: string,
  ) {}

  ready(msg: RelayReady): Promise<void> {
    return emit(this.client, addressed(AgentPatterns.RelayReady, this.nodeId), msg);
  }
  streamLive(msg: RelayStreamEvent): Promise<void> {
    return emit(this.client, addressed(AgentPatterns.RelayStreamLive, this.nodeId), msg);
  }
  streamEnded(msg: RelayStreamEvent): Promise<void> {
    return emit(this.client, addressed(AgentPatterns.RelayStreamEnded, this.nodeId), msg);
  }
  upstreamLost(msg: UpstreamLost): Promise<void> {
    return emit(this.client, addressed(AgentPatterns.RelayUpstreamLost, this.nodeId), msg);
  }
  forwardClosed(msg: ForwardClosed): Promise<void> {
    return emit(this.client, addressed(AgentPatterns.RelayForwardClosed, this.nodeId), msg);
  }
  stats(msg: RelayStatsReport): Promise<void> {
    return emit(this.client, addressed(AgentPatterns.RelayStats, this.nodeId), msg);
  }
}
