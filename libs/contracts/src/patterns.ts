/**
 * Every message pattern of Astral. Nothing outside this file spells a pattern as a string.
 *
 * Directory patterns are shared channels that the directory subscribes to. Node- and relay-addressed
 * patterns carry the target's node id, so only that process receives them: a server registers them with
 * the `{self}` placeholder (see NodeAddressedRedisServer), a client fills in the id with `addressed()`.
 */
export const SELF = '{self}';

export const DirectoryPatterns = {
  RegisterNode: 'directory.nodes.register',
  NodeHeartbeat: 'directory.nodes.heartbeat',
  UnregisterNode: 'directory.nodes.unregister',
  ListNodes: 'directory.nodes.list',
  PromoteSupernode: 'directory.supernodes.promote',
  DemoteSupernode: 'directory.supernodes.demote',
  ListSupernodes: 'directory.supernodes.list',
  CreateStream: 'directory.streams.create',
  AnnounceStream: 'directory.streams.announce',
  EndStream: 'directory.streams.end',
  GetStream: 'directory.streams.get',
  ListStreams: 'directory.streams.list',
  ListCarriers: 'directory.streams.carriers',
  Carrying: 'directory.streams.carrying',
} as const;

/** Handled by a node's agent. */
export const AgentPatterns = {
  TicketRequest: `node.${SELF}.tickets.request`,
  TicketConfirm: `node.${SELF}.tickets.confirm`,
  TicketCancel: `node.${SELF}.tickets.cancel`,
  TicketHeartbeat: `node.${SELF}.tickets.heartbeat`,
  TicketEnded: `node.${SELF}.tickets.ended`,
  MembershipJoin: `node.${SELF}.membership.join`,
  MembershipHeartbeat: `node.${SELF}.membership.heartbeat`,
  MembershipLeave: `node.${SELF}.membership.leave`,
  MembershipRehome: `node.${SELF}.membership.rehome`,
  SupernodeCarriers: `node.${SELF}.supernode.carriers`,
  RelayStreamLive: `node.${SELF}.relay.stream-live`,
  RelayStreamEnded: `node.${SELF}.relay.stream-ended`,
  RelayUpstreamLost: `node.${SELF}.relay.upstream-lost`,
  RelayForwardClosed: `node.${SELF}.relay.forward-closed`,
  RelayStats: `node.${SELF}.relay.stats`,
  RelayReady: `node.${SELF}.relay.ready`,
} as const;

/** Handled by a node's relay. */
export const RelayPatterns = {
  AuthorizePublish: `relay.${SELF}.publish.authorize`,
  AdmitForward: `relay.${SELF}.forward.admit`,
  RevokeForward: `relay.${SELF}.forward.revoke`,
  OpenUpstream: `relay.${SELF}.upstream.open`,
  CloseUpstream: `relay.${SELF}.upstream.close`,
  SetUploadLimit: `relay.${SELF}.limits.set`,
  GetStats: `relay.${SELF}.stats.get`,
} as const;

export type AgentPattern = (typeof AgentPatterns)[keyof typeof AgentPatterns];
export type RelayPattern = (typeof RelayPatterns)[keyof typeof RelayPatterns];

/** The concrete channel of a node- or relay-addressed pattern for one node. */
export function addressed(pattern: AgentPattern | RelayPattern, nodeId: string): string {
  return pattern.replace(SELF, nodeId);
}
