import type {
  MembershipHeartbeat,
  MembershipJoin,
  MembershipLeave,
  MembershipRehome,
} from '@astral/contracts';
import type { MemberCarrying } from '../membership';
import type { InboundId } from './effects';

/** A static seed supernode (NodeConfig.seeds, parsed). */
export interface MembershipSeed {
  nodeId: string;
  host: string;
  forwardPort: number;
}

/** Everything a membership machine is built from: plain data, no services. */
export interface MembershipConfig {
  nodeId: string;
  /** The address this node advertises, and its data and API ports (sent in a join). */
  host: string;
  forwardPort: number;
  apiPort: number;
  /** Members this node accepts as a supernode. */
  maxChildren: number;
  /** Heartbeat interval (members to their supernode, and the supernode's expiry tick). */
  heartbeatMs: number;
  /** Tried before the directory's list, and the only candidates while the directory is away. */
  seeds: MembershipSeed[];
  /** Promote itself when supernodes exist but none takes the node (else retry after 2 intervals). */
  promoteWhenOrphaned: boolean;
  /** A join request's timeout (default 1000 ms). */
  joinTimeoutMs?: number;
  /** A directory request's timeout (default 3000 ms). */
  directoryTimeoutMs?: number;
}

/** A member's heartbeats that may fail in a row (while peers are accountable) before it fails over. */
export const MEMBERSHIP_MISS_LIMIT = 3;

/** Timer names the machine arms. */
export const MembershipTimers = {
  /** A member's next heartbeat to its supernode. */
  beat: 'membership.beat',
  /** A supernode's next expiry sweep of its members. */
  expire: 'membership.expire',
  /** The next join round after none took the node (promotion when orphaned is off). */
  rejoin: 'membership.rejoin',
} as const;

/** The machine's own inputs (besides replies, RTTs and timers: CommonInput). */
export type MembershipInput =
  /** Begin: the agent has bootstrapped (seeds need no directory). */
  | { type: 'start' }
  /** Fact: the directory accepted the node's registration (an unrecorded promotion is sent again). */
  | { type: 'directory-up' }
  /** Fact: may peers' silence be held against them now (false while Redis is away, and just after). */
  | { type: 'accountable'; accountable: boolean }
  /** Fact: what this node lists in its heartbeats (advertisedCarrying); the driver feeds it when it changes. */
  | { type: 'carrying'; carrying: MemberCarrying[] }
  /** The supernode capacity changed (the local API). */
  | { type: 'max-children'; maxChildren: number }
  /** Graceful leave; answered once the members were told and the directory was asked to demote. */
  | { type: 'leave'; inbound: InboundId }
  // ---- from peers ----
  | { type: 'join-request'; inbound: InboundId; join: MembershipJoin }
  | { type: 'heartbeat-request'; inbound: InboundId; heartbeat: MembershipHeartbeat }
  | { type: 'member-leave'; leave: MembershipLeave }
  | { type: 'rehome'; rehome: MembershipRehome }
  /** A viewer asks this supernode who carries a stream; `own` is this node's own carrying of it. */
  | { type: 'carriers'; inbound: InboundId; streamId: string; own: { hops: number } | null };

export type MembershipRole = 'joining' | 'member' | 'supernode';

/** What the driver reads after each input (it writes NodeFacts from it). */
export interface MembershipView {
  role: MembershipRole;
  /** The supernode this node is a member of (null when joining or a supernode). */
  supernodeId: string | null;
  /** Member ids, while a supernode. */
  members: string[];
  maxChildren: number;
  /** Whether a join round is under way. */
  joining: boolean;
  /** Whether the directory has recorded this node's promotion (while a supernode). */
  promotionRecorded: boolean;
}
