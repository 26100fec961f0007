import { AgentPatterns, DirectoryPatterns, RelayPatterns, patternOf } from './patterns';
import { BusPattern, PayloadOf } from './bus-map';

/**
 * Who may send a pattern (docs/SECURITY.md). Every channel a sender writes names the sender
 * (`<channel>@<sender>`), and Redis ACLs let a node write only channels that name itself, so the
 * receiving server knows who sent each message and checks it here before any handler runs:
 *
 * - `self`: only the addressed node itself (a relay obeys only its own agent, an agent believes only
 *   its own relay's events);
 * - `{ field }`: the payload field names the sender (a node registers, heartbeats, ends streams and asks
 *   for tickets only as itself);
 * - `any`: reads, which anyone with bus access may make.
 */
export type SenderRule<T> = 'self' | 'any' | { field: StringFieldOf<T> };
type StringFieldOf<T> = { [K in keyof T]-?: T[K] extends string ? K : never }[keyof T] & string;

/** A sender that is not a node: the directory, or an operator's tool (reads only). */
export const DIRECTORY_SENDER = 'directory';
export const OPERATOR_SENDER = 'operator';
/** A node id as a bus sender: a lower-case UUID (what loadOrCreateNodeId writes and Redis ACL users are named). */
export const NODE_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isSenderId(s: string): boolean {
  return NODE_ID_PATTERN.test(s) || s === DIRECTORY_SENDER || s === OPERATOR_SENDER;
}

export const BUS_SENDERS: { [P in BusPattern]: SenderRule<PayloadOf<P>> } = {
  [DirectoryPatterns.RegisterNode]: { field: 'nodeId' },
  [DirectoryPatterns.NodeHeartbeat]: { field: 'nodeId' },
  [DirectoryPatterns.UnregisterNode]: { field: 'nodeId' },
  [DirectoryPatterns.ListNodes]: 'any',
  [DirectoryPatterns.PromoteSupernode]: { field: 'nodeId' },
  [DirectoryPatterns.DemoteSupernode]: { field: 'nodeId' },
  [DirectoryPatterns.ListSupernodes]: 'any',
  [DirectoryPatterns.CreateStream]: { field: 'sourceNodeId' },
  [DirectoryPatterns.AnnounceStream]: { field: 'nodeId' },
  [DirectoryPatterns.EndStream]: { field: 'nodeId' },
  [DirectoryPatterns.GetStream]: 'any',
  [DirectoryPatterns.ListStreams]: 'any',
  [DirectoryPatterns.ListCarriers]: 'any',
  [DirectoryPatterns.Carrying]: { field: 'nodeId' },
  [DirectoryPatterns.SetPreview]: { field: 'nodeId' },

  [AgentPatterns.TicketRequest]: { field: 'requesterId' },
  [AgentPatterns.TicketConfirm]: { field: 'requesterId' },
  [AgentPatterns.TicketCancel]: { field: 'requesterId' },
  [AgentPatterns.TicketHeartbeat]: { field: 'requesterId' },
  [AgentPatterns.TicketEnded]: { field: 'nodeId' },
  [AgentPatterns.MembershipJoin]: { field: 'nodeId' },
  [AgentPatterns.MembershipHeartbeat]: { field: 'nodeId' },
  [AgentPatterns.MembershipLeave]: { field: 'nodeId' },
  [AgentPatterns.MembershipRehome]: { field: 'supernodeId' },
  [AgentPatterns.SupernodeCarriers]: { field: 'requesterId' },
  [AgentPatterns.RelayStreamLive]: 'self',
  [AgentPatterns.RelayStreamEnded]: 'self',
  [AgentPatterns.RelayUpstreamLost]: 'self',
  [AgentPatterns.RelayForwardClosed]: 'self',
  [AgentPatterns.RelayStats]: 'self',
  [AgentPatterns.RelayReady]: 'self',

  [RelayPatterns.AuthorizePublish]: 'self',
  [RelayPatterns.AdmitForward]: 'self',
  [RelayPatterns.RevokeForward]: 'self',
  [RelayPatterns.OpenUpstream]: 'self',
  [RelayPatterns.CloseUpstream]: 'self',
  [RelayPatterns.SetUploadLimit]: 'self',
  [RelayPatterns.GetStats]: 'self',
  [RelayPatterns.SetPlayerBudget]: 'self',
  [RelayPatterns.SetDirectoryLink]: 'self',
};

/**
 * The part of a channel before its sender: `node.<id>.tickets.request@<sender>` → both halves. The
 * sharded form `…@{<sender>}` (shardedChannel) splits the same way.
 */
export function splitSender(channel: string): { base: string; sender: string } | null {
  const at = channel.lastIndexOf('@');
  if (at <= 0) return null;
  const sender = channel.slice(at + 1);
  const tagged = /^\{([^{}]*)\}$/.exec(sender);
  return { base: channel.slice(0, at), sender: tagged ? tagged[1] : sender };
}

/**
 * On a Redis Cluster (docs/CONTRACTS.md, "Redis Cluster"), the sharded form of a sender's channel:
 * the sender in a hash tag, `<base>@{<sender>}`, so that every sharded channel a sender writes or reads
 * (its messages to itself, the replies to its requests) lives in one slot, the sender's, and one shard
 * carries them (SPUBLISH/SSUBSCRIBE). Redis ACLs check it as they check `<base>@<sender>`.
 */
export function shardedChannel(base: string, sender: string): string {
  return `${base}@{${sender}}`;
}

/** The sharded reply channel of a request a sender made on `base`: `<base>@{<sender>}.reply`. */
export function shardedReplyChannel(base: string, sender: string): string {
  return `${shardedChannel(base, sender)}.reply`;
}

/**
 * Whether a message on `base` from `sender` travels sharded on a Redis Cluster: a message a node sends
 * to its own channels (the relay and the agent of one node, `node.<id>.*`, `relay.<id>.*`), whose exact
 * channel the receiver knows in advance and SSUBSCRIBEs. A message to another node or to the directory
 * can come from any sender, so its receiver can only match it by pattern (PSUBSCRIBE), which a Redis
 * Cluster has for broadcast pub/sub only.
 */
export function travelsSharded(base: string, sender: string): boolean {
  return targetOf(base) === sender;
}

/** The channel a sender writes for a pattern's concrete channel. */
export function fromSender(channel: string, sender: string): string {
  return `${channel}@${sender}`;
}

/** The addressed node of a concrete node- or relay-addressed channel, or null for a directory channel. */
export function targetOf(base: string): string | null {
  const parts = base.split('.');
  return (parts[0] === 'node' || parts[0] === 'relay') && parts.length > 2 ? parts[1] : null;
}

export type SenderVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Whether `sender` may send `data` on the concrete channel `base` (without its sender suffix). Pure:
 * the transport server calls it for every message, after the message screen and before validation.
 */
export function senderAllowed(base: string, sender: string, data: unknown): SenderVerdict {
  if (!isSenderId(sender)) return { ok: false, reason: 'the sender is not a node id' };
  const pattern = patternOf(base);
  const rule = (BUS_SENDERS as Record<string, SenderRule<Record<string, string>> | undefined>)[pattern];
  if (rule === undefined) return { ok: false, reason: 'unknown pattern' };
  if (rule === 'any') return { ok: true };
  if (rule === 'self') {
    return targetOf(base) === sender
      ? { ok: true }
      : { ok: false, reason: 'only the node itself may send this' };
  }
  const value =
    typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[rule.field] : undefined;
  return value === sender && NODE_ID_PATTERN.test(sender)
    ? { ok: true }
    : { ok: false, reason: `${rule.field} must be the sender's own id` };
}

/**
 * The sender a message claims by its payload (the node its rule names), for tools that speak for
 * several nodes on a bus where they may (see ClaimingRedisClient); `operator` for reads.
 */
export function claimedSender(channel: string, data: unknown): string {
  const rule = (BUS_SENDERS as Record<string, SenderRule<Record<string, string>> | undefined>)[
    patternOf(channel)
  ];
  if (rule === 'self') return targetOf(channel) ?? OPERATOR_SENDER;
  if (rule === undefined || rule === 'any') return OPERATOR_SENDER;
  const value =
    typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[rule.field] : undefined;
  return typeof value === 'string' && isSenderId(value) ? value : OPERATOR_SENDER;
}
