import {
  AgentPatterns,
  DirectoryPatterns,
  type MembershipAccepted,
  type MembershipJoinReply,
  type NodeInfo,
} from '@astral/contracts';
import { SupernodeCandidate, orderSupernodeCandidates } from '../membership';
import { CommonInput, Effect, PendingCalls, replyOf, requestEffect } from './effects';
import type { MembershipConfig } from './membership-types';

/** What each of the membership machine's calls was for. */
export type MembershipCall =
  | { what: 'rtt'; round: number; nodeId: string }
  | { what: 'list'; round: number }
  | { what: 'join'; round: number; nodeId: string; rttMs: number | null }
  | { what: 'beat'; supernodeId: string }
  | { what: 'promote' }
  | { what: 'demote'; inbound: number | null };

/** How a join round ended. */
export type JoinDone =
  | { kind: 'joined'; accepted: MembershipAccepted; rttMs: number | null }
  /** Nobody took the node; `sawCandidates`: some supernode answered the RTT probe (and refused). */
  | { kind: 'none'; sawCandidates: boolean };

/** A supernode without a known address (only its id, from another supernode) is tried with this RTT. */
export const NOMINAL_RTT_MS = 1000;

interface Listed {
  nodeId: string;
  host: string;
  forwardPort: number;
  childCount: number;
  maxChildren: number | null;
}

export interface RoundContext {
  config: MembershipConfig;
  calls: PendingCalls<MembershipCall>;
  /** Supernodes other supernodes told this node about. */
  known: () => Iterable<string>;
}

/**
 * One attempt to find a supernode, in two phases. First the static seeds (no directory needed): their
 * RTTs are measured and they are asked in `orderSupernodeCandidates` order. Only if none takes the node,
 * the directory's list (`directory.supernodes.list`; a failure is an empty list) and the supernodes it
 * knows of, minus those already asked, measured and asked the same way.
 */
export class JoinRound {
  private phase: 'seeds' | 'directory' = 'seeds';
  private readonly measured = new Map<string, SupernodeCandidate>();
  private waitingRtt = 0;
  private queue: SupernodeCandidate[] = [];
  private readonly tried = new Set<string>();
  private sawCandidates = false;

  constructor(
    readonly round: number,
    readonly exclude: ReadonlySet<string>,
    private readonly ctx: RoundContext,
  ) {}

  /** Starts the seed phase (straight on to the directory when there are no seeds). */
  begin(out: Effect[]): JoinDone | null {
    const seeds = this.ctx.config.seeds.map((s) => ({ ...s, childCount: 0, maxChildren: null }));
    return this.measure(seeds, out);
  }

  /** An answer to one of this round's calls (the machine checked the round number). */
  answer(
    ctx: Extract<MembershipCall, { what: 'rtt' | 'list' | 'join' }>,
    input: Extract<CommonInput, { type: 'rtt' | 'reply' | 'failed' }>,
    out: Effect[],
  ): JoinDone | null {
    if (ctx.what === 'rtt') return this.onRtt(ctx.nodeId, input.type === 'rtt' ? input.rttMs : null, out);
    if (ctx.what === 'list') {
      if (input.type === 'failed')
        out.push({
          kind: 'log',
          level: 'warn',
          msg: 'directory did not list supernodes; using seeds and known supernodes',
          fields: { err: input.message },
        });
      return this.onList(
        input.type === 'reply' ? replyOf(DirectoryPatterns.ListSupernodes, input.value) : null,
        out,
      );
    }
    if (input.type === 'reply')
      return this.onJoinReply(ctx.nodeId, ctx.rttMs, replyOf(AgentPatterns.MembershipJoin, input.value), out);
    return this.onJoinFailed(ctx.nodeId, input.type === 'failed' ? input.message : 'no answer', out);
  }

  private onRtt(nodeId: string, rttMs: number | null, out: Effect[]): JoinDone | null {
    const c = this.measured.get(nodeId);
    if (c) c.rttMs = rttMs;
    this.waitingRtt -= 1;
    return this.waitingRtt > 0 ? null : this.order(out);
  }

  private onList(listed: NodeInfo[] | null, out: Effect[]): JoinDone | null {
    const byId = new Map<string, Listed>();
    for (const n of listed ?? [])
      byId.set(n.nodeId, {
        nodeId: n.nodeId,
        host: n.host,
        forwardPort: n.forwardPort,
        childCount: n.childCount,
        maxChildren: n.maxChildren,
      });
    for (const id of this.ctx.known())
      if (!byId.has(id))
        byId.set(id, { nodeId: id, host: '', forwardPort: 0, childCount: 0, maxChildren: null });
    return this.measure([...byId.values()], out);
  }

  private onJoinReply(
    nodeId: string,
    rttMs: number | null,
    reply: MembershipJoinReply,
    out: Effect[],
  ): JoinDone | null {
    if ('accepted' in reply) return { kind: 'joined', accepted: reply, rttMs };
    out.push({
      kind: 'log',
      level: 'debug',
      msg: 'supernode refused the join',
      fields: { supernodeId: nodeId, reason: reply.refused },
    });
    return this.next(out);
  }

  private onJoinFailed(nodeId: string, message: string, out: Effect[]): JoinDone | null {
    out.push({
      kind: 'log',
      level: 'debug',
      msg: 'supernode did not answer the join',
      fields: { supernodeId: nodeId, err: message },
    });
    return this.next(out);
  }

  private skip(nodeId: string): boolean {
    return nodeId === this.ctx.config.nodeId || this.exclude.has(nodeId) || this.tried.has(nodeId);
  }

  private measure(candidates: Listed[], out: Effect[]): JoinDone | null {
    const { calls } = this.ctx;
    this.measured.clear();
    for (const c of candidates) {
      if (this.skip(c.nodeId) || this.measured.has(c.nodeId)) continue;
      this.measured.set(c.nodeId, {
        nodeId: c.nodeId,
        rttMs: c.host ? null : NOMINAL_RTT_MS,
        childCount: c.childCount,
        maxChildren: c.maxChildren,
      });
      if (!c.host) continue;
      const call = calls.open({ what: 'rtt', round: this.round, nodeId: c.nodeId });
      out.push({ kind: 'measure-rtt', call, host: c.host, port: c.forwardPort });
      this.waitingRtt += 1;
    }
    return this.waitingRtt > 0 ? null : this.order(out);
  }

  private order(out: Effect[]): JoinDone | null {
    this.queue = orderSupernodeCandidates(this.ctx.config.nodeId, [...this.measured.values()]);
    this.measured.clear();
    if (this.queue.length > 0) this.sawCandidates = true;
    return this.next(out);
  }

  /** Asks the next candidate; after the seeds, asks the directory; after the directory's, is done. */
  private next(out: Effect[]): JoinDone | null {
    const { config, calls } = this.ctx;
    const c = this.queue.shift();
    if (c) {
      this.tried.add(c.nodeId);
      const call = calls.open({ what: 'join', round: this.round, nodeId: c.nodeId, rttMs: c.rttMs });
      out.push(
        requestEffect(
          call,
          AgentPatterns.MembershipJoin,
          c.nodeId,
          {
            nodeId: config.nodeId,
            host: config.host,
            forwardPort: config.forwardPort,
            apiPort: config.apiPort,
          },
          config.joinTimeoutMs ?? 1000,
        ),
      );
      return null;
    }
    if (this.phase === 'seeds') {
      this.phase = 'directory';
      const call = calls.open({ what: 'list', round: this.round });
      out.push(
        requestEffect(
          call,
          DirectoryPatterns.ListSupernodes,
          null,
          { nodeId: config.nodeId, hint: config.host },
          config.directoryTimeoutMs ?? 3000,
        ),
      );
      return null;
    }
    return { kind: 'none', sawCandidates: this.sawCandidates };
  }
}
