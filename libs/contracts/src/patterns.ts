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
  SetPlayerBudget: `relay.${SELF}.budget.set`,
  SetDirectoryLink: `relay.${SELF}.directory.set`,
} as const;

export type DirectoryPattern = (typeof DirectoryPatterns)[keyof typeof DirectoryPatterns];
export type AgentPattern = (typeof AgentPatterns)[keyof typeof AgentPatterns];
export type RelayPattern = (typeof RelayPatterns)[keyof typeof RelayPatterns];
/** Patterns that carry the target's node id in place of `{self}`. */
export type AddressedPattern = AgentPattern | RelayPattern;

declare const addressedPattern: unique symbol;
/** The channel of an addressed pattern for one node: a string that remembers its pattern for the compiler. */
export type Addressed<P extends AddressedPattern> = string & { readonly [addressedPattern]: P };

/** The concrete channel of a node- or relay-addressed pattern for one node. */
export function addressed<P extends AddressedPattern>(pattern: P, nodeId: string): Addressed<P> {
  return pattern.replace(SELF, nodeId) as Addressed<P>;
}

/** The pattern of a channel: the inverse of `addressed` (a directory pattern is its own channel). */
export function patternOf(channel: string): string {
  const parts = channel.split('.');
  if ((parts[0] === 'node' || parts[0] === 'relay') && parts.length > 2) parts[1] = SELF;
  return parts.join('.');
}
