import { AgentPatterns, DirectoryPatterns } from './patterns';
import { ReplyOf, RequestPattern } from './bus-map';
import { Refused, UnknownToPeer } from './common';
import { NodeInfo, RegisterNodeReply } from './nodes';
import { CarrierInfo } from './streams';
import { TicketConfirmReply, TicketHeartbeatOk, TicketOffered } from './tickets';
import { MembershipAccepted, MembershipHeartbeatOk } from './membership';

/** A class-validator class whose instances are T. */
export type ReplyClass<T> = new () => T;

/**
 * How a reply is validated on receipt: one instance of a class, a list of them, or one of a few
 * classes (a union reply such as `{ offer } | { refused }`: the first class it validates as).
 */
export type ReplyShape<R> =
  | { one: ReplyClass<R> }
  | { listOf: ReplyClass<R extends readonly (infer E)[] ? E : never> }
  | { oneOf: readonly ReplyClass<R>[] };

/**
 * Replies checked by the sender before it believes them (see `request` in @astral/transport): those
 * that come from other nodes, whose hosts and ports this node goes on to dial, and the directory's
 * replies the agent builds on. Replies from a process's own relay are not checked.
 */
export const CHECKED_REPLIES: { readonly [P in RequestPattern]?: ReplyShape<ReplyOf<P>> } = {
  [AgentPatterns.TicketRequest]: { oneOf: [TicketOffered, Refused] },
  [AgentPatterns.TicketConfirm]: { one: TicketConfirmReply },
  [AgentPatterns.TicketHeartbeat]: { oneOf: [TicketHeartbeatOk, UnknownToPeer] },
  [AgentPatterns.MembershipJoin]: { oneOf: [MembershipAccepted, Refused] },
  [AgentPatterns.MembershipHeartbeat]: { oneOf: [MembershipHeartbeatOk, UnknownToPeer] },
  [AgentPatterns.SupernodeCarriers]: { listOf: CarrierInfo },
  [DirectoryPatterns.RegisterNode]: { one: RegisterNodeReply },
  [DirectoryPatterns.ListSupernodes]: { listOf: NodeInfo },
  [DirectoryPatterns.ListCarriers]: { listOf: CarrierInfo },
};

/** The shape a reply to pattern P is checked against, if any. */
export function replyShapeOf<P extends RequestPattern>(pattern: P): ReplyShape<ReplyOf<P>> | undefined {
  return CHECKED_REPLIES[pattern];
}
